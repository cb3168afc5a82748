import { afterAll, describe, expect, it } from 'vitest';
import type { TransitionState } from '../../domain/definitions.js';
import { offboardingBody } from '../factories.js';
import { cleanUpDevRuns, devEnv, devOperatorKey, runDev, waitReady } from '../support/dev-run.js';

afterAll(cleanUpDevRuns);

async function state(url: string, id: string): Promise<TransitionState> {
  const response = await fetch(`${url}/v1/transitions/${id}`, {
    headers: { authorization: `Bearer ${devOperatorKey}` },
  });
  return (await response.json()) as TransitionState;
}

describe('npm run dev (bin/dev.ts)', () => {
  it('stops at once with one line naming a bad variable', async () => {
    const { output, exited } = runDev({ PORT: 'abc' });
    expect(await exited).toBe(1);
    const lines = output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: PORT: /);
  });

  it('resumes a transition that was in flight when it was stopped', async () => {
    const env = await devEnv();
    const url = env.PUBLIC_URL;

    const first = runDev(env);
    await waitReady(first, url);
    expect(first.output()).toContain(`Mailbox:      ${url}/mailbox`);
    const body = offboardingBody({
      terms: {
        noticeReceivedAt: new Date().toISOString(),
        noticePeriod: 'PT25S',
        transitionPeriod: 'PT25S',
        retentionPeriod: 'PT1S',
      },
    });
    const id = `offboarding-${body.client.id}`;
    const started = await fetch(`${url}/v1/transitions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${devOperatorKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(started.status).toBe(201);
    let inFlight = await state(url, id);
    while (inFlight.currentStep !== 'cutover') inFlight = await state(url, id);
    expect(inFlight.status).toBe('running');

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    const second = runDev(env);
    await waitReady(second, url);
    const resumed = await state(url, id);
    expect(resumed.status).toBe('running');
    const deadline = Date.now() + 60_000;
    let final = resumed;
    while (final.status === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      final = await state(url, id);
    }
    expect(final.status).toBe('completed');
    expect(final.steps.every((step) => step.status === 'completed')).toBe(true);
  }, 180_000);
});
