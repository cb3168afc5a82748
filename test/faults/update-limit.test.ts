// Temporal takes at most 2,000 Updates into one run. A script completing thousands of tasks one call
// each reaches that limit: the API must say so plainly (409, never 500) and cancel must still work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskPage, TransitionState } from '../../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** Temporal's default limit of Updates per run (`limit.workflowExecution.maxTotalUpdates`). */
const updatesPerRun = 2_000;

describe("past Temporal's Updates limit", () => {
  it('one call per task: the call past the limit answers 409 update_limit, and cancel still ends the run', async () => {
    const clientId = uniqueClientId('limit');
    const devices = Array.from({ length: updatesPerRun + 50 }, (_, i) => ({
      id: `ws-${i}`,
      hostname: `ws-${i}.limit.example`,
      type: 'workstation',
    }));
    const id = `offboarding-${clientId}`;
    const body = offboardingBody({
      clientId,
      terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT1S', retentionPeriod: 'PT1S' },
      scope: { devices, credentials: [], dataSets: [], backupJobs: [] },
      approvalSteps: [],
    });
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.taskCounts?.open === devices.length,
      120_000,
    );

    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < devices.length) {
          const device = devices[next++]!;
          const answer = await stack.call(
            'POST',
            `/v1/transitions/${id}/tasks/agent-removal.${device.id}/complete`,
            {
              evidence: { text: 'removed' },
            },
          );
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status === 409) {
            const { error } = (await answer.json()) as { error: { code: string; message: string } };
            expect(error.code).toBe('update_limit');
            expect(error.message).toContain('POST /v1/transitions/:id/tasks/complete');
          } else await answer.arrayBuffer();
        }
      }),
    );
    // Never a 500: done (200), refused past the limit (409), or, on a machine too busy to answer
    // within the call's deadline, 503 "may or may not have been made" (the counts below tell).
    expect([...statuses.keys()].filter((status) => ![200, 409, 503].includes(status))).toEqual([]);
    expect(statuses.get(409)).toBeGreaterThan(0);

    // Every 200 was done, every 409 changed nothing; a 503 may or may not have been (as it says).
    const counts = (
      (await (await stack.call('GET', `/v1/transitions/${id}/tasks?limit=1`)).json()) as TaskPage
    ).counts;
    const done = statuses.get(200) ?? 0;
    expect(counts.completed).toBeGreaterThanOrEqual(done);
    expect(counts.completed).toBeLessThanOrEqual(done + (statuses.get(503) ?? 0));
    expect(counts.completed).toBeLessThanOrEqual(updatesPerRun);
    expect(counts.open).toBe(devices.length - counts.completed);

    const cancel = await stack.call('POST', `/v1/transitions/${id}/cancel`, {
      reason: 'the client asked to stop',
    });
    expect(cancel.status).toBe(200);
    const cancelled = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.status === 'cancelled',
      60_000,
    );
    expect(cancelled.outcome).toBe('cancelled by ops: the client asked to stop');
  }, 300_000);
});
