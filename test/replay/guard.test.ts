// The replay test can fail: a timer added at the start of the offboarding without a patch breaks
// the replay of a recorded run in flight; the same change behind `patched()` replays.
import path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { failureConverterPath } from '../../security/payload-codec.js';
import { fixtureDataConverter, recordedHistories } from './fixtures.js';

const inFlight = (await recordedHistories()).find((recorded) =>
  recorded.name.endsWith('/offboarding-cutover-timer'),
)!;

async function replayWith(probe: string) {
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: path.join(import.meta.dirname, 'probes', probe),
    failureConverterPath,
  });
  return Worker.runReplayHistory(
    { workflowBundle, dataConverter: await fixtureDataConverter() },
    inFlight.history,
    inFlight.workflowId,
  );
}

describe('the replay test guards runs in flight', () => {
  it('refuses a timer added without a patch', async () => {
    await expect(replayWith('unpatched-timer.ts')).rejects.toBeInstanceOf(DeterminismViolationError);
  });

  it('accepts the same timer behind patched()', async () => {
    await expect(replayWith('patched-timer.ts')).resolves.toBeUndefined();
  });
});
