// A side effect that keeps failing for days: the run shows the stall, retries less often once it has
// lasted a day (every round is kept in its history for good), and an operator's retry starts the next
// round at once, so a fixed fault need not wait out a 6-hour pause.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { retryUpdate, stateQuery } from '../../domain/definitions.js';
import { refusedDomain } from '../support/refusing-mailer.js';
import { addressesOf, useWorkflowEnv, waitFor } from '../support/workflow-env.js';

// Every refused attempt is an activity failure the worker would log: hundreds of them, on purpose.
const workflows = useWorkflowEnv({ name: 'stalls', logLevel: 'ERROR' });
let env: TestWorkflowEnvironment;
beforeAll(() => {
  env = workflows.env;
});

const operator = { actor: 'ops-key', reason: 'the mail relay accepts our domain again' };

describe('a stall that lasts days', () => {
  it('retries every 6 hours after its first day, and at once when an operator retries', async () => {
    const request = await workflows.requestNow({
      contacts: {
        approvers: [{ name: 'Dana Reyes', email: `dana@${refusedDomain}` }],
        operators: [{ name: 'MSP Ops', email: `ops@${refusedDomain}` }],
      },
    });
    let refuse = true;
    await workflows.withWorker(
      'stalls-1',
      async () => {
        const handle = await env.client.workflow.start('offboardingWorkflow', {
          taskQueue: 'stalls-1',
          workflowId: `offboarding-${request.client.id}`,
          args: [request],
        });
        const stalled = await waitFor(async () => (await handle.query(stateQuery)).stalled);
        expect(stalled).toMatchObject({ step: 'termination-notice', activity: 'sendEmail' });

        await env.sleep('4 days');
        const { events } = await handle.fetchHistory();
        const since = Date.parse(stalled.since);
        const pauses = events!.flatMap((event) => {
          const timer = event.timerStartedEventAttributes;
          if (!timer) return [];
          const at = Number(event.eventTime!.seconds) * 1000;
          return [{ afterMs: at - since, seconds: Number(timer.startToFireTimeout!.seconds) }];
        });
        const firstDay = pauses.filter((pause) => pause.afterMs < 24 * 3600_000);
        const later = pauses.filter((pause) => pause.afterMs >= 24 * 3600_000);
        // 30 s doubling to 10 min through the first day; then every 6 hours, 3 days in 12 rounds.
        expect(firstDay.slice(0, 6).map((pause) => pause.seconds)).toEqual([30, 60, 120, 240, 480, 600]);
        expect(firstDay.every((pause) => pause.seconds <= 600)).toBe(true);
        expect(later.map((pause) => pause.seconds)).toEqual(Array(later.length).fill(6 * 3600));
        expect(later.length).toBeGreaterThanOrEqual(11);
        expect(later.length).toBeLessThanOrEqual(13);

        // Nothing to retry is refused; the mail relay is fixed, the operator retries, and no time passes.
        refuse = false;
        const rounds = (await handle.query(stateQuery)).stalled!.rounds;
        const retriedAt = await env.currentTimeMs();
        await handle.executeUpdate(retryUpdate, { args: [operator] });
        const done = await waitFor(async () => {
          const state = await handle.query(stateQuery);
          return state.stalled === undefined && state.steps[0]!.status !== 'stalled' ? state : undefined;
        });
        expect((await env.currentTimeMs()) - retriedAt).toBeLessThan(3600_000);
        expect(done.controls.at(-1)).toMatchObject({
          action: 'retried',
          actor: 'ops-key',
          reason: operator.reason,
          details: { activity: 'sendEmail' },
        });
        expect(rounds).toBeGreaterThan(100);
        await expect(handle.executeUpdate(retryUpdate, { args: [operator] })).rejects.toThrow(
          WorkflowUpdateFailedError,
        );
        await handle.terminate('test over');
      },
      { refuseMail: () => refuse },
    );
    const delivered = (await workflows.mails()).filter((mail) =>
      addressesOf(mail).some((address) => address.endsWith(`@${refusedDomain}`)),
    );
    expect(delivered.length).toBeGreaterThan(0);
  });
});
