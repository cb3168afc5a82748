// Faults outside the runbook: a mail server that is down, a worker that was away. Nothing may
// stall silently, and nothing may arrive in a burst when the fault clears.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionState } from '../../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${stack.api.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
}

describe('faults outside the runbook', () => {
  it('SMTP down: the step shows as stalled with the last error and in /metrics, and goes on by itself once mail is back', async () => {
    const clientId = uniqueClientId('smtp');
    const body = offboardingBody({
      clientId,
      client: { id: clientId, name: `Stalled ${clientId}`, timezone: 'UTC' },
      terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT1S', retentionPeriod: 'PT1S' },
      approvalSteps: [],
    });
    const id = `offboarding-${clientId}`;
    await stack.stopMail();
    try {
      expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
      const stalled = await waitForState<TransitionState>(
        stack,
        id,
        (state) => state.stalled !== undefined,
        90_000,
      );
      expect(stalled.stalled).toMatchObject({ step: 'termination-notice', activity: 'sendEmail' });
      expect(stalled.stalled!.lastError).toMatch(/ECONNREFUSED|mail server/i);
      expect(stalled.steps[0]).toMatchObject({ key: 'termination-notice', status: 'stalled' });
      await expect
        .poll(() => metric('transitions_stalled'), { timeout: 30_000, interval: 500 })
        .toBeGreaterThanOrEqual(1);
      // An operator may retry at once instead of waiting for the next round; it is recorded.
      const retried = await stack.call('POST', `/v1/transitions/${id}/retry`, { reason: 'relay restarted' });
      expect(retried.status).toBe(200);
      expect(((await retried.json()) as TransitionState).controls.at(-1)).toMatchObject({
        action: 'retried',
        reason: 'relay restarted',
        details: { activity: 'sendEmail' },
      });
    } finally {
      await stack.startMail();
    }
    const done = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.status === 'completed',
      120_000,
    );
    expect(done.stalled).toBeUndefined();
    expect(done.steps.every((step) => step.status === 'completed')).toBe(true);
    const late = await stack.call('POST', `/v1/transitions/${id}/retry`, { reason: 'again' });
    expect(late.status).toBe(409);
    const trail = await (await stack.call('GET', `/v1/transitions/${id}/audit?format=csv`)).text();
    expect(trail).toMatch(/stalled side effect retried.*relay restarted/);
    const timelines = stack.mail.filter((m) => m.subject === `Termination timeline for ${body.client.name}`);
    expect(timelines).toHaveLength(1);
    await expect.poll(() => metric('transitions_stalled'), { timeout: 30_000, interval: 500 }).toBe(0);
  }, 300_000);

  it('a worker away while reminders fall due sends one catch-up reminder, not a burst', async () => {
    const clientId = uniqueClientId('burst');
    const body = offboardingBody({
      clientId,
      client: { id: clientId, name: `Burst ${clientId}`, timezone: 'UTC' },
      terms: {
        noticePeriod: 'PT1H',
        transitionPeriod: 'PT1H',
        retentionPeriod: 'PT1H',
        reminderInterval: 'PT2S',
        approvalTimeout: 'PT2M',
      },
      approvalSteps: ['data-export'],
    });
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    const reminders = () =>
      stack.mail.filter(
        (m) => m.subject === `Reminder: Approval needed: Data export manifest for ${body.client.name}`,
      ).length;
    await stack.waitForMail(
      (m) => m.subject === `Approval needed: Data export manifest for ${body.client.name}`,
    );
    await stack.stopWorker();
    const before = reminders();
    await sleep(12_000);
    await stack.startWorker();
    await expect.poll(reminders, { timeout: 30_000, interval: 100 }).toBeGreaterThan(before);
    const first = reminders();
    await sleep(1_500);
    expect(reminders() - before).toBe(1);
    expect(first - before).toBe(1);
  }, 120_000);
});
