import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evidence, TransitionState } from '../../domain/definitions.js';
import { csrfValue, loadLinkSecrets, sha256Hex } from '../../security/links.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { csrfIn, linkIn, postForm } from '../support/links.js';
import { historyText } from '../support/secrets.js';
import {
  auditorKey,
  startStack,
  validatorKey,
  waitForState,
  webUiOrigin,
  type Stack,
} from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

const clientName = 'Confidential Dental Group';
const hostname = 'srv-hidden-7731.confidential.local';
const approver = 'riley.hidden@confidential.example';
const evidence = 'Evidence-Text-Plain-5523 exported to the client bucket';

/** A completed offboarding carrying the client data that must not be readable in Temporal. */
let transitionId = '';
let approvalLink = '';

describe('security', () => {
  it('keeps client data out of the Temporal history for anyone without the codec', async () => {
    const clientId = uniqueClientId('conf');
    const body = offboardingBody({
      clientId,
      client: { id: clientId, name: clientName, timezone: 'UTC' },
      contacts: {
        approvers: [{ name: 'Riley', email: approver }],
        operators: [{ name: 'Ops', email: 'ops@msp.example' }],
      },
      terms: {
        noticeReceivedAt: new Date().toISOString(),
        noticePeriod: 'PT1S',
        transitionPeriod: 'PT1S',
        retentionPeriod: 'PT1S',
        approvalTimeout: 'PT2M',
        reminderInterval: 'PT1M',
      },
      scope: {
        devices: [{ id: 'srv-01', hostname, type: 'server', agents: ['rmm'] }],
        dataSets: [{ id: 'ehr', description: 'EHR database' }],
      },
      approvalSteps: ['data-export'],
    });
    transitionId = `offboarding-${clientId}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    const finish = async (taskId: string, evidence: Evidence, key?: string) => {
      await waitForState<TransitionState>(stack, transitionId, (state) =>
        state.tasks.some((task) => task.id === taskId && task.status === 'open'),
      );
      const done = await stack.call(
        'POST',
        `/v1/transitions/${transitionId}/tasks/${taskId}/complete`,
        { evidence },
        key,
      );
      expect(done.status).toBe(200);
    };
    await finish('data-export.ehr', { text: evidence });
    const mail = await stack.waitForMail(
      (m) => m.subject === `Approval needed: Data export manifest for ${clientName}`,
    );
    approvalLink = linkIn(mail, 'approvals');
    const csrf = csrfIn(await (await fetch(approvalLink)).text());
    const decided = await postForm(approvalLink, { decision: 'approve', comment: 'ok', csrf });
    expect(decided.status).toBe(200);
    await finish('agent-removal.srv-01', { text: 'agents removed' });
    await finish('retention-deletion.ehr', { text: 'purged' });
    // A second person validates the deletion.
    await finish(
      'retention-deletion.ehr.validation',
      { text: 'listed again', validation: { verificationMethod: 'listing', verificationResult: 'passed' } },
      validatorKey,
    );
    await waitForState<TransitionState>(stack, transitionId, (state) => state.status === 'completed');

    const withoutCodec = new Client({ connection: stack.client.connection, namespace: 'default' });
    const raw = await historyText(withoutCodec, transitionId, { decoded: false });
    const decoded = await historyText(stack.client, transitionId);
    for (const plain of [clientName, hostname, approver, evidence]) {
      expect(raw).not.toContain(plain);
      expect(decoded).toContain(plain);
    }
    expect(raw).toContain('binary/encrypted');
    // Search attributes stay readable: they hold only ids and statuses.
    expect(raw).toContain(clientId);
  });

  it('decodes through the codec endpoint for operator and auditor keys, or the Web UI session cookie', async () => {
    const history = await stack.client.workflow.getHandle(transitionId).fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!
      .payloads![0]! as Payload;
    const asJson = (payload: Payload) => ({
      metadata: Object.fromEntries(
        Object.entries(payload.metadata ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value).toString('base64'),
        ]),
      ),
      data: Buffer.from(payload.data!).toString('base64'),
    });
    const body = { payloads: [asJson(input)] };
    expect((await stack.call('POST', '/codec/decode', body, null)).status).toBe(401);
    const decoded = await stack.call('POST', '/codec/decode', body, auditorKey);
    expect(decoded.status).toBe(200);
    const plain = ((await decoded.json()) as { payloads: { data: string }[] }).payloads[0]!;
    expect(Buffer.from(plain.data, 'base64').toString('utf8')).toContain(clientName);

    const url = `${stack.api.url}/codec`;
    const preflight = await fetch(`${url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: webUiOrigin, 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(webUiOrigin);
    const wrongKey = await fetch(`${url}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'key=not-a-key',
    });
    expect(wrongKey.status).toBe(401);
    const signedIn = await fetch(`${url}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: auditorKey }).toString(),
    });
    expect(signedIn.status).toBe(200);
    const cookie = signedIn.headers.get('set-cookie')!;
    expect(cookie).toMatch(/codec_session=.+; Max-Age=28800; Path=\/codec; .*HttpOnly; SameSite=Lax/);
    const fromUi = await fetch(`${url}/decode`, {
      method: 'POST',
      headers: { origin: webUiOrigin, cookie: cookie.split(';')[0]!, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(fromUi.status).toBe(200);
    expect(fromUi.headers.get('access-control-allow-origin')).toBe(webUiOrigin);
    const forged = await fetch(`${url}/decode`, {
      method: 'POST',
      headers: { cookie: `${cookie.split(';')[0]!.slice(0, -3)}AAA`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(forged.status).toBe(401);
    // The session is for the codec only.
    expect(
      (await fetch(`${stack.api.url}/v1/transitions`, { headers: { cookie: cookie.split(';')[0]! } })).status,
    ).toBe(401);
  });

  it('sends the security headers on every public page and refuses cross-origin posts', async () => {
    const pages = [
      approvalLink,
      `${stack.api.url}/approvals/not-a-token`,
      `${stack.api.url}/intake/not-a-token`,
      `${stack.api.url}/reveal/not-a-token`,
      `${stack.api.url}/codec/session`,
      `${stack.api.url}/healthz`,
    ];
    for (const page of pages) {
      const response = await fetch(page);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect([page, csp]).toEqual([page, expect.stringContaining("default-src 'none'")]);
      expect(csp).toContain("script-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    }
    for (const path of ['/approvals/x', '/intake/x', '/reveal/x', '/codec/session']) {
      const response = await fetch(`${stack.api.url}${path}`, {
        method: 'POST',
        headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'decision=approve&csrf=x&secret=x&key=x',
      });
      expect([path, response.status]).toEqual([path, 403]);
    }
  });

  it("lets a real browser's same-origin press through (Origin: null under no-referrer), refuses cross-site ones, and never counts a refused press as a failed attempt", async () => {
    // The decided page shows no form any more; its CSRF value is what the form carried.
    const csrf = csrfValue(
      await loadLinkSecrets(stack.dataDir),
      sha256Hex(approvalLink.split('/approvals/')[1]!),
    );
    const press = (headers: Record<string, string>, fields = { decision: 'approve', csrf }) =>
      postForm(approvalLink, fields, { 'x-forwarded-for': '192.0.2.44', ...headers });
    // The link's transition has finished: a press that passes the origin check gets the closed page's 410.
    expect((await press({ origin: 'null', 'sec-fetch-site': 'same-origin' })).status).toBe(410);
    expect((await press({ origin: stack.api.url, 'sec-fetch-site': 'same-origin' })).status).toBe(410);
    expect((await press({ origin: 'null', 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await press({ origin: 'null', 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await press({ origin: 'null' })).status).toBe(403);
    expect((await press({ origin: 'https://evil.example' })).status).toBe(403);
    for (let i = 0; i < 25; i++) {
      expect((await press({ 'sec-fetch-site': 'same-origin' })).status).toBe(410);
      expect((await press({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    }
    expect((await fetch(approvalLink, { headers: { 'x-forwarded-for': '192.0.2.44' } })).status).toBe(410);
  });

  it('answers 429 to the 21st bad token from one address within a minute, and logs no token', async () => {
    const from = (ip: string, token: string) =>
      fetch(`${stack.api.url}/approvals/${token}`, { headers: { 'x-forwarded-for': ip } });
    const tokens = Array.from({ length: 21 }, (_, i) => `bad-token-${i}-${'x'.repeat(20)}`);
    for (const token of tokens.slice(0, 20)) expect((await from('203.0.113.7', token)).status).toBe(404);
    expect((await from('203.0.113.7', tokens[20]!)).status).toBe(429);
    expect((await from('203.0.113.7', approvalLink.split('/approvals/')[1]!)).status).toBe(429);
    expect((await from('198.51.100.4', tokens[0]!)).status).toBe(404);

    const logs = stack.logs.join('\n');
    for (const token of [...tokens, approvalLink.split('/approvals/')[1]!]) expect(logs).not.toContain(token);
    expect(logs).not.toContain(auditorKey);
  });
});
