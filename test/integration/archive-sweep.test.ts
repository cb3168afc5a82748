// A transition terminated from outside never runs its own close; the hourly archive sweep still
// copies its history next to its documents, so the audit outlives Temporal's retention.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeHistory } from '../../audit/history-codec.js';
import type { TransitionState } from '../../domain/definitions.js';
import { archiveSweepScheduleId, ensureArchiveSweep } from '../../worker/archive-sweep-schedule.js';
import { offboardingBody } from '../factories.js';
import { startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

it('archives the history of a transition terminated from outside', async () => {
  const body = offboardingBody();
  const id = `offboarding-${body.client.id}`;
  expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
  await waitForState<TransitionState>(stack, id, (state) => state.currentStep === 'cutover');
  const handle = stack.client.workflow.getHandle(id);
  const { runId } = await handle.describe();
  await handle.terminate('terminated from outside by the test');
  const archive = path.join(stack.dataDir, 'documents', id, runId, 'archive', 'history.binpb');
  expect(existsSync(archive)).toBe(false);

  await ensureArchiveSweep(stack.client, stack.config.temporal.taskQueue);
  await ensureArchiveSweep(stack.client, stack.config.temporal.taskQueue);
  const schedule = stack.client.schedule.getHandle(archiveSweepScheduleId);
  // Visibility sees a close a moment later: the sweep is run until it has.
  const deadline = Date.now() + 60_000;
  while (!existsSync(archive) && Date.now() < deadline) {
    await schedule.trigger();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  const history = decodeHistory(await readFile(archive));
  expect(history.events?.at(-1)?.workflowExecutionTerminatedEventAttributes?.reason).toBe(
    'terminated from outside by the test',
  );
});
