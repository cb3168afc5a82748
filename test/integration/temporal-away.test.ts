import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionState } from '../../domain/definitions.js';
import { createLinkToken, linkNonce, loadLinkSecrets } from '../../security/links.js';
import { offboardingBody } from '../factories.js';
import { operatorKey, startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;
let id: string;
let approvalLink: string;

beforeAll(async () => {
  stack = await startStack();
  const body = offboardingBody();
  id = `offboarding-${body.client.id}`;
  expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
  await waitForState<TransitionState>(stack, id, (state) => state.status === 'running');
  await untilOk('/readyz');
  // Signed and unexpired, so the page asks the workflow about it (and so reaches Temporal).
  const secret = await loadLinkSecrets(stack.dataDir);
  const token = createLinkToken(
    secret,
    { transitionId: id, requestId: 'data-export-1', purpose: 'approval', expiresAt: '2999-01-01T00:00:00Z' },
    linkNonce(secret, 'probe'),
  );
  approvalLink = `/approvals/${token}`;
});

afterAll(async () => {
  await stack?.stop();
});

/** A probe with a 5-second timeout must read the answer: 2 s of deadline plus room for a busy machine. */
const answerWithinMillis = 3_000;

/** GET as a probe would, timing the answer; the old API never answered a hung Temporal at all. */
async function timedGet(path: string) {
  const started = performance.now();
  const response = await fetch(`${stack.api.url}${path}`, {
    headers: path.startsWith('/v1/') ? { authorization: `Bearer ${operatorKey}` } : {},
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { response, text, millis: performance.now() - started };
}

async function untilOk(path: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const { response, text } = await timedGet(path);
    if (response.ok) return;
    last = `${response.status} ${text}`;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${path} did not recover within ${timeoutMs} ms: ${last}`);
}

async function expectTemporalUnavailable(path: string, why: RegExp) {
  const { response, text, millis } = await timedGet(path);
  expect(millis).toBeLessThan(answerWithinMillis);
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe('5');
  expect(JSON.parse(text)).toEqual({
    error: { code: 'temporal_unavailable', message: expect.stringMatching(why) },
  });
}

async function expectNotReady(reason: RegExp) {
  const { response, text, millis } = await timedGet('/readyz');
  expect(millis).toBeLessThan(answerWithinMillis);
  expect(response.status).toBe(503);
  expect(JSON.parse(text)).toEqual({
    status: 'not ready',
    checks: { temporal: expect.stringMatching(reason), worker: 'unknown' },
  });
}

async function expectUnavailablePage() {
  const { response, text, millis } = await timedGet(approvalLink);
  expect(millis).toBeLessThan(answerWithinMillis);
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe('5');
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  expect(text).toContain('Open the link from your email again in a few minutes');
}

describe('while Temporal is away the API answers 503 at once, and recovers when it is back', () => {
  it('a hung Temporal (SIGSTOP): 503 within the deadline, then answers again after SIGCONT', async () => {
    const temporal = stack.temporalProcess();
    temporal.kill('SIGSTOP');
    try {
      await expectTemporalUnavailable(`/v1/transitions/${id}`, /did not answer in time; try again shortly/);
      await expectNotReady(/^no answer within 1500 ms$/);
      await expectUnavailablePage();
    } finally {
      temporal.kill('SIGCONT');
    }
    await untilOk(`/v1/transitions/${id}`);
    await untilOk('/readyz');
    const paused = await stack.call('POST', `/v1/transitions/${id}/pause`, { reason: 'after the outage' });
    expect(paused.status).toBe(200);
  });

  it('a stopped Temporal (connection refused): 503 without the SDK’s 20 s of retries, then answers after a restart', async () => {
    await stack.stopTemporal();
    await expectTemporalUnavailable(`/v1/transitions/${id}`, /unreachable or overloaded; try again shortly/);
    await expectNotReady(/^unreachable: .*ECONNREFUSED/);
    await expectUnavailablePage();
    const started = performance.now();
    const resume = await stack.call('POST', `/v1/transitions/${id}/resume`, { reason: 'outage over' });
    expect(performance.now() - started).toBeLessThan(answerWithinMillis);
    expect(resume.status).toBe(503);
    expect(((await resume.json()) as { error: { message: string } }).error.message).toMatch(
      /may or may not have been made/,
    );

    await stack.startTemporal();
    await untilOk(`/v1/transitions/${id}`);
    await untilOk('/readyz');
    const resumed = await stack.call('POST', `/v1/transitions/${id}/resume`, { reason: 'outage over' });
    expect(resumed.status).toBe(200);
  }, 120_000);
});
