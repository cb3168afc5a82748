import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionState } from '../../domain/definitions.js';
import { offboardingBody } from '../factories.js';
import { auditorKey, startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

const seconds = (n: number) => `PT${n}S`;
type ErrorBody = { error: { code: string; message: string; details?: unknown } };
type ListBody = { transitions: Record<string, unknown>[] };
type OpenApi = {
  paths: Record<
    string,
    Record<string, { requestBody: { content: Record<string, { schema: { oneOf: unknown[] } }> } }>
  >;
};
const read = <T>(response: Response) => response.json() as Promise<T>;
const soon = () => new Date().toISOString();

describe('API over real HTTP, with the dev server, a worker and SMTP', () => {
  it('is ready once Temporal answers and the worker polls', async () => {
    const deadline = Date.now() + 30_000;
    let response = await stack.call('GET', '/readyz', undefined, null);
    while (response.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      response = await stack.call('GET', '/readyz', undefined, null);
    }
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', checks: { temporal: 'ok', worker: 'ok' } });
    expect((await stack.call('GET', '/healthz', undefined, null)).status).toBe(200);
  });

  it('drives an offboarding to completion over HTTP and lists it through visibility', async () => {
    const body = offboardingBody({
      terms: {
        noticeReceivedAt: soon(),
        noticePeriod: seconds(2),
        transitionPeriod: seconds(3),
        retentionPeriod: seconds(1),
      },
    });
    const started = await stack.call('POST', '/v1/transitions', body);
    expect(started.status).toBe(201);
    const id = `offboarding-${body.client.id}`;
    expect(await read(started)).toEqual({
      id,
      kind: 'offboarding',
      clientId: body.client.id,
      status: 'running',
    });

    const again = await stack.call('POST', '/v1/transitions', body);
    expect(again.status).toBe(409);
    expect((await read<ErrorBody>(again)).error.code).toBe('conflict');

    const final = await waitForState<TransitionState>(stack, id, (state) => state.status === 'completed');
    expect(final.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));
    expect(final.startedBy).toBe('ops');
    // The worker's build is recorded on the run: a deploy is visible per transition.
    expect(final.build?.startedOn).toBe(stack.config.buildId);

    const listed = await read<ListBody>(
      await stack.call('GET', `/v1/transitions?clientId=${body.client.id}`, undefined, auditorKey),
    );
    expect(listed.transitions).toEqual([
      expect.objectContaining({ id, kind: 'offboarding', clientId: body.client.id, status: 'completed' }),
    ]);
    const running = await read<ListBody>(
      await stack.call('GET', `/v1/transitions?clientId=${body.client.id}&status=running`),
    );
    expect(running.transitions).toEqual([]);
  });

  it('extending a period moves the dates and the running timer', async () => {
    const body = offboardingBody({
      terms: {
        noticeReceivedAt: soon(),
        noticePeriod: seconds(3),
        transitionPeriod: seconds(3),
        retentionPeriod: seconds(1),
      },
    });
    const id = `offboarding-${body.client.id}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    const before = await waitForState<TransitionState>(stack, id, (state) => state.currentStep === 'cutover');
    const extended = await stack.call('POST', `/v1/transitions/${id}/extend`, {
      period: 'noticePeriod',
      by: 'PT4S',
      reason: 'client asked for more time',
    });
    expect(extended.status).toBe(200);
    const after = (await extended.json()) as TransitionState;
    expect(Date.parse(after.dates.cutoverAt!) - Date.parse(before.dates.cutoverAt!)).toBe(4000);
    expect(after.nextTimer).toEqual({ name: 'cutover', firesAt: after.dates.cutoverAt });
    const final = await waitForState<TransitionState>(stack, id, (state) => state.status === 'completed');
    const cutover = final.steps.find((step) => step.key === 'cutover')!;
    expect(Date.parse(cutover.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(after.dates.cutoverAt!));
    expect(final.controls).toEqual([
      expect.objectContaining({ action: 'extended', actor: 'ops', reason: 'client asked for more time' }),
    ]);
  });

  it('a legal hold keeps deletion from starting past its due date until it is released', async () => {
    const body = offboardingBody({
      terms: {
        noticeReceivedAt: soon(),
        noticePeriod: seconds(1),
        transitionPeriod: seconds(1),
        retentionPeriod: seconds(1),
      },
    });
    const id = `offboarding-${body.client.id}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    expect(
      (await stack.call('POST', `/v1/transitions/${id}/legal-hold`, { reason: 'litigation hold' })).status,
    ).toBe(200);
    const again = await stack.call('POST', `/v1/transitions/${id}/legal-hold`, { reason: 'twice' });
    expect(again.status).toBe(409);
    const held = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.currentStep === 'retention-deletion',
    );
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, Date.parse(held.dates.deletionDueAt!) - Date.now()) + 1500),
    );
    const stillHeld = await waitForState<TransitionState>(stack, id, () => true);
    expect(stillHeld.status).toBe('running');
    expect(stillHeld.steps.find((step) => step.key === 'retention-deletion')!.status).toBe('running');
    expect(
      (await stack.call('POST', `/v1/transitions/${id}/legal-hold/release`, { reason: 'hold lifted' }))
        .status,
    ).toBe(200);
    const final = await waitForState<TransitionState>(stack, id, (state) => state.status === 'completed');
    expect(final.controls.map((control) => [control.action, control.actor])).toEqual([
      ['legal-hold-placed', 'ops'],
      ['legal-hold-released', 'ops'],
    ]);
  });

  it('pause holds the next step while timers keep running; resume goes on; both are documented', async () => {
    const body = offboardingBody({
      terms: {
        noticeReceivedAt: soon(),
        noticePeriod: seconds(2),
        transitionPeriod: seconds(2),
        retentionPeriod: seconds(1),
      },
    });
    const id = `offboarding-${body.client.id}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    await waitForState<TransitionState>(stack, id, (state) => state.currentStep === 'cutover');
    const pause = (reason?: string) =>
      stack.call('POST', `/v1/transitions/${id}/pause`, reason ? { reason } : {});
    expect((await pause()).status).toBe(400);
    expect((await pause('client asked to wait for their new provider')).status).toBe(200);
    expect((await pause('again')).status).toBe(409);
    const paused = await waitForState<TransitionState>(stack, id, (state) => state.paused);
    // The cutover timer keeps running, but the next step does not start while paused.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, Date.parse(paused.dates.cutoverAt!) - Date.now()) + 1500),
    );
    const held = await waitForState<TransitionState>(stack, id, () => true);
    expect(held.steps.find((step) => step.key === 'cutover')!.status).toBe('completed');
    expect(held.steps.find((step) => step.key === 'agent-removal')!.status).toBe('pending');
    expect(held.status).toBe('running');
    const resumed = await stack.call('POST', `/v1/transitions/${id}/resume`, { reason: 'provider ready' });
    expect(resumed.status).toBe(200);
    expect((await stack.call('POST', `/v1/transitions/${id}/resume`, { reason: 'twice' })).status).toBe(409);
    const final = await waitForState<TransitionState>(stack, id, (state) => state.status === 'completed');
    expect(final.controls.map((control) => [control.action, control.actor, control.reason])).toEqual([
      ['paused', 'ops', 'client asked to wait for their new provider'],
      ['resumed', 'ops', 'provider ready'],
    ]);
    const agentRemoval = final.steps.find((step) => step.key === 'agent-removal')!;
    expect(Date.parse(agentRemoval.startedAt!)).toBeGreaterThanOrEqual(Date.parse(final.controls[1]!.at));
    const cutoverDoc = await (await stack.call('GET', `/v1/transitions/${id}/documents/03-cutover`)).text();
    expect(cutoverDoc).toContain('client asked to wait for their new provider');
    expect((await stack.call('POST', `/v1/transitions/${id}/pause`, { reason: 'late' })).status).toBe(409);
  });

  it('a dry run validates and returns the plan in UTC and the client zone, starting nothing', async () => {
    const body = offboardingBody({
      client: { id: 'dry-run-dental', name: 'Dry Run Dental', timezone: 'America/Chicago' },
      clientId: 'dry-run-dental',
      approvalSteps: ['retention-deletion'],
      terms: { noticeReceivedAt: '2026-11-22T00:00:00Z' },
    });
    const response = await stack.call('POST', '/v1/transitions?dryRun=true', body);
    expect(response.status).toBe(200);
    const plan = await read<{
      dryRun: boolean;
      id: string;
      steps: { key: string; needsApproval: boolean }[];
      dates: Record<string, { utc: string; local: string }>;
      reminders: { before: string; utc: string; local: string }[];
    }>(response);
    expect(plan.dryRun).toBe(true);
    expect(plan.id).toBe('offboarding-dry-run-dental');
    expect(plan.steps.map((step) => step.key)).toEqual([
      'termination-notice',
      'data-export',
      'cutover',
      'agent-removal',
      'credential-rotation',
      'transition-assistance',
      'retention-deletion',
      'closure',
    ]);
    expect(plan.steps.filter((step) => step.needsApproval).map((step) => step.key)).toEqual([
      'retention-deletion',
    ]);
    expect(plan.dates.cutoverAt).toEqual({
      utc: '2026-12-22T00:00:00.000Z',
      local: '2026-12-21T18:00:00.000-06:00',
    });
    expect(plan.dates.assistanceEndsAt!.utc).toBe('2027-01-21T00:00:00.000Z');
    expect(plan.dates.deletionDueAt!.utc).toBe('2027-04-21T00:00:00.000Z');
    expect(plan.reminders).toEqual([
      { before: 'cutover', utc: '2026-12-15T00:00:00.000Z', local: '2026-12-14T18:00:00.000-06:00' },
      { before: 'cutover', utc: '2026-12-21T00:00:00.000Z', local: '2026-12-20T18:00:00.000-06:00' },
      {
        before: 'retention-deletion',
        utc: '2027-04-14T00:00:00.000Z',
        local: '2027-04-13T19:00:00.000-05:00',
      },
      {
        before: 'retention-deletion',
        utc: '2027-04-20T00:00:00.000Z',
        local: '2027-04-19T19:00:00.000-05:00',
      },
    ]);
    expect((await stack.call('GET', '/v1/transitions/offboarding-dry-run-dental')).status).toBe(404);
    const invalid = await stack.call('POST', '/v1/transitions?dryRun=true', { ...body, kind: 'handover' });
    expect(invalid.status).toBe(400);
  });

  it('answers bad input with a clear error and changes nothing', async () => {
    const noKey = await stack.call('POST', '/v1/transitions', offboardingBody(), null);
    expect(noKey.status).toBe(401);
    const auditor = await stack.call('POST', '/v1/transitions', offboardingBody(), auditorKey);
    expect(auditor.status).toBe(403);
    const invalid = await stack.call(
      'POST',
      '/v1/transitions',
      offboardingBody({ terms: { noticePeriod: '30 days' } }),
    );
    expect(invalid.status).toBe(400);
    const error = (await read<ErrorBody>(invalid)).error;
    expect(error.code).toBe('invalid_request');
    expect(error.details).toEqual([expect.objectContaining({ path: ['terms', 'noticePeriod'] })]);
    // A start may carry thousands of devices (BULK_BODY_LIMIT, 8 MB); anything else BODY_LIMIT (100 kB).
    const huge = await stack.call('POST', '/v1/transitions', {
      ...offboardingBody(),
      padding: 'x'.repeat(9_000_000),
    });
    expect(huge.status).toBe(413);
    const hugeReason = await stack.call('POST', '/v1/transitions/offboarding-anyone/pause', {
      reason: 'x'.repeat(200_000),
    });
    expect(hugeReason.status).toBe(413);
    expect((await read<ErrorBody>(huge)).error.code).toBe('payload_too_large');
    const missing = await stack.call('GET', '/v1/transitions/offboarding-nobody-here');
    expect(missing.status).toBe(404);
    const badControl = await stack.call('POST', '/v1/transitions/offboarding-nobody-here/pause', {});
    expect(badControl.status).toBe(400);
    const list = await read<ListBody>(await stack.call('GET', '/v1/transitions?clientId=nobody-here'));
    expect(list.transitions).toEqual([]);
  });

  it('serves metrics and an OpenAPI document generated from the schemas', async () => {
    const metrics = await (await stack.call('GET', '/metrics', undefined, null)).text();
    expect(metrics).toMatch(
      /http_requests_total\{method="POST",route="\/v1\/transitions",status="201"\} \d+/,
    );
    expect(metrics).toMatch(/transitions_started_total\{kind="offboarding"\} \d+/);
    expect(metrics).toMatch(/^transitions_running \d+$/m);
    const spec = await read<OpenApi>(await stack.call('GET', '/openapi.json', undefined, null));
    const start = spec.paths['/v1/transitions']!.post!;
    const variants = start.requestBody.content['application/json']!.schema.oneOf as {
      properties: Record<string, { enum?: string[] }>;
    }[];
    expect(variants.map((variant) => variant.properties.kind!.enum)).toEqual([
      ['offboarding'],
      ['onboarding'],
    ]);
    expect(variants[0]!.properties.terms).toBeDefined();
    expect(Object.keys(spec.paths)).toContain('/v1/transitions/{id}/legal-hold/release');
  });

  it('logs each request with the caller name and never the API key', () => {
    const lines = stack.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      lines.some((line) => line.caller === 'ops' && (line.req as { url: string })?.url === '/v1/transitions'),
    ).toBe(true);
    expect(stack.logs.join('\n')).not.toContain('test-operator-key');
  });
});
