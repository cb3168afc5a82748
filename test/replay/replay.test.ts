// Every recorded history of every released version replays against today's workflow code: a change
// that would break a run in flight (a timer, activity or update added, removed or moved without a
// patch) fails here before it reaches a worker.
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { failureConverterPath } from '../../security/payload-codec.js';
import { workflowInterceptorModules, workflowsPath } from '../../worker/runbook-worker.js';
import { fixtureDataConverter, recordedHistories } from './fixtures.js';

const histories = await recordedHistories();
let workflowBundle: WorkflowBundle;

// One bundle of today's code for every history.
beforeAll(async () => {
  workflowBundle = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules,
    failureConverterPath,
  });
});

describe('recorded histories replay against today’s workflow code', () => {
  it('there are recorded histories', () => {
    expect(histories.length).toBeGreaterThan(0);
  });

  it.each(histories.map((recorded) => [recorded.name, recorded] as const))('%s', async (_name, recorded) => {
    await Worker.runReplayHistory(
      { workflowBundle, dataConverter: await fixtureDataConverter(), replayName: recorded.name },
      recorded.history,
      recorded.workflowId,
    );
  });
});
