import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionState } from '../../domain/definitions.js';
import { uniqueClientId } from '../factories.js';
import { csrfIn, linkIn, postForm } from '../support/links.js';
import { filesContaining, historyText } from '../support/secrets.js';
import { auditorKey, startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

const intakeSecret = 'Pl4nted-Intake-Secret-ZQX1';
const operatorSecret = 'Pl4nted-Operator-Secret-ZQX2';

/** Posts from the page's own origin, as the browser showing the link page does. */
const formPost = (link: string, fields: Record<string, string>) =>
  postForm(link, fields, { origin: new URL(link).origin });

describe('a full onboarding over HTTP and real SMTP', () => {
  it('discovers, vaults credentials (intake link and operator API), deploys, proves restores and is accepted; no secret leaks', async () => {
    const clientId = uniqueClientId('bright');
    const name = `Bright Smiles ${clientId}`;
    const body = {
      kind: 'onboarding',
      client: { id: clientId, name, timezone: 'Europe/London' },
      requestedBy: 'ops@msp.example',
      contacts: {
        approvers: [{ name: 'Riley Chen', email: 'riley@bright.example' }],
        operators: [{ name: 'MSP Ops', email: 'ops@msp.example' }],
      },
      terms: { approvalTimeout: 'PT2M', reminderInterval: 'PT1M', rotationPeriod: 'P90D' },
      scope: {
        devices: [
          { id: 'srv-01', hostname: 'srv-01.bright.local', type: 'server', agents: ['rmm', 'backup'] },
          { id: 'srv-02', hostname: 'srv-02.bright.local', type: 'server', agents: ['monitoring'] },
          { id: 'ws-07', hostname: 'ws-07.bright.local', type: 'workstation', agents: [] },
        ],
        credentials: [
          { id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' },
          { id: 'm365-global', system: 'Microsoft 365', account: 'admin@bright.example' },
        ],
        backupJobs: [
          { id: 'srv-01-nightly', device: 'srv-01', rto: 'PT4H' },
          { id: 'nas-weekly', device: 'nas-01' },
        ],
      },
    };
    const started = await stack.call('POST', '/v1/transitions', body);
    expect(started.status).toBe(201);
    const id = `onboarding-${clientId}`;

    // The client hands one credential over through the intake link; an operator puts the other.
    const intakeMail = await stack.waitForMail(
      (m) => m.subject === `Credential needed: msp-admin on Active Directory for ${name}`,
    );
    const intake = linkIn(intakeMail, 'intake');
    const form = await (await fetch(intake)).text();
    expect(form).toContain('type="password"');
    const csrf = csrfIn(form);
    expect((await formPost(intake, { secret: intakeSecret, csrf: 'forged' })).status).toBe(403);
    const stored = await formPost(intake, { secret: intakeSecret, csrf });
    expect(stored.status).toBe(200);
    expect(await stored.text()).toContain('stored');
    const reused = await formPost(intake, { secret: 'second try', csrf });
    expect(reused.status).toBe(409);
    expect(await (await fetch(intake)).text()).toContain('already supplied');

    expect(
      (
        await stack.call(
          'POST',
          `/v1/transitions/${id}/credentials/m365-global`,
          { secret: operatorSecret },
          auditorKey,
        )
      ).status,
    ).toBe(403);
    expect(
      (await stack.call('POST', `/v1/transitions/${id}/credentials/unknown-one`, { secret: 'x' })).status,
    ).toBe(404);
    const put = await stack.call('POST', `/v1/transitions/${id}/credentials/m365-global`, {
      secret: operatorSecret,
    });
    expect(put.status).toBe(201);

    const custody = await waitForState<TransitionState>(stack, id, (state) =>
      state.steps.some((step) => step.key === 'credential-vaulting' && step.documentId !== undefined),
    );
    expect(custody.credentials.map((c) => [c.id, c.status, c.suppliedBy, c.suppliedVia])).toEqual([
      ['domain-admin', 'vaulted', 'riley@bright.example', 'intake-link'],
      ['m365-global', 'vaulted', 'ops', 'operator-api'],
    ]);
    for (const credential of custody.credentials) {
      expect(credential.reference).toMatchObject({
        version: 1,
        fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
      expect(Date.parse(credential.rotationDueAt!) - Date.parse(credential.suppliedAt!)).toBe(
        90 * 24 * 3600 * 1000,
      );
    }

    const task = (taskId: string, evidence: Record<string, unknown>) =>
      stack.call('POST', `/v1/transitions/${id}/tasks/${taskId}/complete`, { evidence });
    await waitForState<TransitionState>(stack, id, (state) =>
      state.tasks.some((t) => t.id === 'agent-deployment.srv-01' && t.status === 'open'),
    );
    expect(
      statusOf(await task('agent-deployment.srv-01', { text: 'RMM and backup agents checked in' })),
    ).toBe(200);
    expect(statusOf(await task('agent-deployment.srv-02', { text: 'monitoring agent checked in' }))).toBe(
      200,
    );
    expect(statusOf(await task('agent-deployment.ws-07', { text: 'nothing planned' }))).toBe(404);

    await waitForState<TransitionState>(stack, id, (s) =>
      s.tasks.some((t) => t.id === 'restore-validation.srv-01-nightly' && t.status === 'open'),
    );
    expect(statusOf(await task('restore-validation.srv-01-nightly', { text: 'restored' }))).toBe(400);
    const restore = (startedAt: string, endedAt: string) => ({
      startedAt,
      endedAt,
      integrityCheck: 'passed',
      verifiedBy: 'Jordan (MSP engineer)',
    });
    expect(
      statusOf(
        await task('restore-validation.srv-01-nightly', {
          text: 'full VM restore to scratch host',
          restore: restore('2026-11-23T01:00:00Z', '2026-11-23T06:30:00Z'),
        }),
      ),
    ).toBe(200);
    expect(
      statusOf(
        await task('restore-validation.nas-weekly', {
          text: 'file-level restore of 1,000 files, checksums match',
          restore: restore('2026-11-23T02:00:00Z', '2026-11-23T02:20:00Z'),
        }),
      ),
    ).toBe(200);

    const acceptance = await stack.waitForMail(
      (m) => m.subject === `Approval needed: Onboarding handover summary for ${name}`,
    );
    const approval = linkIn(acceptance, 'approvals');
    const decided = await formPost(approval, {
      decision: 'approve',
      comment: 'Accepted.',
      csrf: csrfIn(await (await fetch(approval)).text()),
    });
    expect(decided.status).toBe(200);

    const final = await waitForState<TransitionState>(stack, id, (s) => s.status === 'completed');
    expect(final.steps.map((step) => [step.key, step.status])).toEqual([
      ['discovery', 'completed'],
      ['credential-vaulting', 'completed'],
      ['agent-deployment', 'completed'],
      ['restore-validation', 'completed'],
      ['service-acceptance', 'completed'],
    ]);

    const document = async (docId: string) =>
      (await stack.call('GET', `/v1/transitions/${id}/documents/${docId}`, undefined, auditorKey)).text();
    const discovery = await document('01-discovery');
    expect(discovery).toContain('server srv-02.bright.local has no backup job');
    expect(discovery).not.toContain('server srv-01.bright.local has no backup job');
    expect(discovery).toContain(
      'backup job nas-weekly protects nas-01, which is not in the device inventory',
    );
    expect(discovery).toContain('ws-07.bright.local has no agent planned');
    const custodyDoc = await document('02-credential-vaulting');
    for (const credential of custody.credentials)
      expect(custodyDoc).toContain(credential.reference!.fingerprint);
    expect(custodyDoc).toContain('riley@bright.example (intake-link)');
    const restoreDoc = await document('04-restore-validation');
    expect(restoreDoc).toMatch(/`srv-01-nightly`.*19800.*PT4H.*\*\*no\*\*.*FLAGGED/);
    expect(restoreDoc).toMatch(/`nas-weekly`.*1200.*no RTO.*ok/);
    expect(await document('05-service-acceptance')).toContain('Accepted.');

    // The planted secrets are in the vault and nowhere else.
    const history = await historyText(stack.client, id);
    expect(history).toContain('domain-admin');
    const everywhere = [
      history,
      stack.logs.join('\n'),
      ...stack.mail.map((m) => `${m.subject}\n${m.text}\n${String(m.html)}`),
    ].join('\n');
    for (const planted of [intakeSecret, operatorSecret]) {
      expect(everywhere).not.toContain(planted);
      expect(await filesContaining(stack.dataDir, planted, ['vault'])).toEqual([]);
    }
    expect((await filesContaining(stack.dataDir, 'Active Directory', ['vault'])).length).toBeGreaterThan(0);
  }, 120_000);
});

function statusOf(response: Response): number {
  return response.status;
}
