import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../../api/server.js';
import { createLogger } from '../../config/logger.js';
import type { TransitionState } from '../../domain/definitions.js';
import { createLinkToken, linkNonce, loadLinkSecrets } from '../../security/links.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { auditorKey, startStack, waitForState, type Stack } from '../support/stack.js';
import { csrfIn, linkIn, postForm } from '../support/links.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

const approvers = [
  { name: 'Dana Reyes', email: 'dana@acme.example' },
  { name: 'Lee Park', email: 'lee@acme.example' },
];

/** An offboarding whose first approval (data export) is asked at once; a unique client name tells its mail apart. */
async function startAwaitingExportApproval() {
  const clientId = uniqueClientId('appr');
  const body = offboardingBody({
    clientId,
    client: { id: clientId, name: `Client ${clientId}`, timezone: 'UTC' },
    contacts: { approvers, operators: [{ name: 'Ops', email: 'ops@msp.example' }] },
    terms: {
      noticePeriod: 'PT1H',
      transitionPeriod: 'PT1H',
      retentionPeriod: 'PT1H',
      approvalTimeout: 'PT10M',
      reminderInterval: 'PT5M',
    },
    approvalSteps: ['data-export'],
  });
  const id = `offboarding-${clientId}`;
  expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
  const linkFor = async (email: string, round = 'Approval needed') => {
    const mail = await stack.waitForMail(
      (m) =>
        m.subject?.startsWith(round) === true &&
        m.subject.endsWith(body.client.name) &&
        m.to !== undefined &&
        JSON.stringify(m.to).includes(email),
    );
    return linkIn(mail, 'approvals');
  };
  return { id, name: body.client.name, linkFor };
}

async function csrfOf(link: string): Promise<string> {
  return csrfIn(await (await fetch(link)).text());
}

function decide(link: string, decision: string, csrf: string, headers: Record<string, string> = {}) {
  return postForm(link, { decision, comment: `${decision} from test`, csrf }, headers);
}

const pendingApproval = (state: TransitionState) => state.approvals.at(-1);

describe('approval links', () => {
  it('a GET changes nothing; forged, tampered, expired or form-less posts decide nothing; concurrent approvers give one decision', async () => {
    const { id, linkFor } = await startAwaitingExportApproval();
    const dana = await linkFor('dana@acme.example');
    const lee = await linkFor('lee@acme.example');
    expect(dana).not.toBe(lee);
    // A client's email carries only links the client can open: no API link needing a key.
    const toClient = stack.mail.filter((m) => JSON.stringify(m.to).includes('@acme.example'));
    expect(toClient.length).toBeGreaterThan(0);
    for (const mail of toClient)
      expect([mail.subject, mail.text]).not.toContainEqual(expect.stringContaining('/v1/'));

    for (let i = 0; i < 3; i++) expect((await fetch(dana)).status).toBe(200);
    const afterGets = await waitForState<TransitionState>(stack, id, () => true);
    expect(pendingApproval(afterGets)).toMatchObject({ status: 'pending', decisions: [] });

    const token = dana.split('/approvals/')[1]!;
    const [payload, nonce, mac] = token.split('.') as [string, string, string];
    const base = dana.split('/approvals/')[0]!;
    const flipped = `${payload}.${nonce}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    const elsewhere = `${Buffer.from(JSON.stringify({ w: 'offboarding-someone-else', r: 'data-export-1', p: 'approval', x: '2999-01-01T00:00:00Z' })).toString('base64url')}.${nonce}.${mac}`;
    const secret = await loadLinkSecrets(stack.dataDir);
    const expired = createLinkToken(
      secret,
      {
        transitionId: id,
        requestId: 'data-export-1',
        purpose: 'approval',
        expiresAt: '2020-01-01T00:00:00Z',
      },
      linkNonce(secret, 'expired'),
    );
    const unknownButSigned = createLinkToken(
      secret,
      {
        transitionId: id,
        requestId: 'data-export-1',
        purpose: 'approval',
        expiresAt: '2999-01-01T00:00:00Z',
      },
      linkNonce(secret, 'never mailed'),
    );
    for (const [bad, status] of [
      [flipped, 404],
      [elsewhere, 404],
      ['garbage', 404],
      [expired, 410],
      [unknownButSigned, 404],
    ] as const) {
      expect((await fetch(`${base}/approvals/${bad}`)).status).toBe(status);
      expect((await decide(`${base}/approvals/${bad}`, 'approve', 'x')).status).toBe(status);
    }
    const expiredPage = await (await fetch(`${base}/approvals/${expired}`)).text();
    expect(expiredPage).toContain('This link has expired.');
    expect(expiredPage).toContain('ops@msp.example');
    expect(await (await fetch(`${base}/approvals/garbage`)).text()).toContain('What to do now');
    expect((await decide(dana, 'approve', '')).status).toBe(403);
    expect(
      (await decide(dana, 'approve', await csrfOf(dana), { origin: 'https://evil.example' })).status,
    ).toBe(403);
    const untouched = await waitForState<TransitionState>(stack, id, () => true);
    expect(pendingApproval(untouched)).toMatchObject({ status: 'pending', decisions: [] });

    const [danaCsrf, leeCsrf] = await Promise.all([csrfOf(dana), csrfOf(lee)]);
    const statuses = (
      await Promise.all([decide(dana, 'approve', danaCsrf), decide(lee, 'approve', leeCsrf)])
    ).map((r) => r.status);
    expect(statuses.sort()).toEqual([200, 409]);
    const settled = await waitForState<TransitionState>(
      stack,
      id,
      (state) => pendingApproval(state)?.status === 'approved',
    );
    expect(pendingApproval(settled)!.decisions).toHaveLength(1);
    expect(pendingApproval(settled)!.decisions[0]).toMatchObject({
      decision: 'approve',
      ip: expect.any(String),
      userAgent: expect.any(String),
    });
    expect(stack.logs.join('\n')).not.toContain(token);
  });

  it('a link mailed before the link secret is rotated still opens and approves; once its secret is removed it is not valid', async () => {
    const { id, linkFor } = await startAwaitingExportApproval();
    const [dana, lee] = [await linkFor('dana@acme.example'), await linkFor('lee@acme.example')];
    // The secret these links were signed with: the generated one, which a list names l0 without an id.
    const [before] = await loadLinkSecrets(stack.dataDir);
    const newer = `l1:${randomBytes(32).toString('base64')}`;
    const apiWith = async (linkSecret: string) => {
      const api = await startApi({ ...stack.config, port: 0, linkSecret }, createLogger('silent'));
      return { api, at: (link: string) => link.replace(stack.config.publicUrl, api.url) };
    };

    const rotated = await apiWith(`${before!.key.toString('base64')},${newer}`);
    try {
      const page = await fetch(rotated.at(dana));
      expect(page.status).toBe(200);
      expect((await decide(rotated.at(dana), 'approve', csrfIn(await page.text()))).status).toBe(200);
    } finally {
      await rotated.api.close();
    }
    const approved = await waitForState<TransitionState>(
      stack,
      id,
      (state) => pendingApproval(state)?.status === 'approved',
    );
    expect(pendingApproval(approved)!.decisions).toMatchObject([{ decision: 'approve' }]);

    const oldRemoved = await apiWith(newer);
    try {
      for (const response of [
        await fetch(oldRemoved.at(lee)),
        await decide(oldRemoved.at(lee), 'approve', 'x'),
      ]) {
        expect(response.status).toBe(404);
        expect(await response.text()).toContain('This link is not valid.');
      }
    } finally {
      await oldRemoved.api.close();
    }
  });

  it('a rejection holds the step with its document until an operator asks again; cancel documents what was done', async () => {
    const { id, name, linkFor } = await startAwaitingExportApproval();
    const dana = await linkFor('dana@acme.example');
    expect((await decide(dana, 'reject', await csrfOf(dana))).status).toBe(200);
    const held = await waitForState<TransitionState>(stack, id, (state) =>
      state.steps.some((step) => step.key === 'data-export' && step.status === 'rejected'),
    );
    expect(held.status).toBe('running');
    await stack.waitForMail((m) => m.subject === `Rejected: Data export manifest for ${name}`);
    const docs = (await (await stack.call('GET', `/v1/transitions/${id}/documents`)).json()) as {
      documents: { id: string }[];
    };
    expect(docs.documents.map((doc) => doc.id)).toContain('02-data-export-rejected-1');

    const again = await stack.call('POST', `/v1/transitions/${id}/steps/data-export/request-approval`, {
      reason: 'client clarified',
    });
    expect(again.status).toBe(200);
    const waitingAgain = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.approvals.length === 2,
    );
    expect(waitingAgain.approvals[1]).toMatchObject({ requestId: 'data-export-2', status: 'pending' });
    expect(
      (
        await stack.call('POST', `/v1/transitions/${id}/steps/data-export/request-approval`, {
          reason: 'twice',
        })
      ).status,
    ).toBe(409);

    const cancelled = await stack.call('POST', `/v1/transitions/${id}/cancel`, {
      reason: 'client withdrew the notice',
    });
    expect(cancelled.status).toBe(200);
    // The answer is the state after the cancel, not before it.
    expect(((await cancelled.json()) as TransitionState).status).toBe('cancelled');
    const final = await waitForState<TransitionState>(stack, id, (state) => state.status === 'cancelled');
    expect(final.outcome).toBe('cancelled by ops: client withdrew the notice');
    expect(final.steps.find((step) => step.key === 'termination-notice')!.status).toBe('completed');
    expect(final.steps.find((step) => step.key === 'data-export')!.status).toBe('skipped');
    const cancelledDoc = await (
      await stack.call('GET', `/v1/transitions/${id}/documents/02-data-export`)
    ).text();
    expect(cancelledDoc).toContain('cancelled');
    expect(cancelledDoc).toContain('client withdrew the notice');

    const trail = (await (
      await stack.call('GET', `/v1/transitions/${id}/audit`, undefined, auditorKey)
    ).json()) as {
      header: { outcome: string };
      verification: { valid: boolean };
      entries: Record<string, string>[];
    };
    expect(trail.header.outcome).toBe('cancelled');
    expect(trail.verification.valid).toBe(true);
    const actions = trail.entries.map((entry) => [entry.action, entry.actor]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['approval decided', 'dana@acme.example'],
        ['step rejected', 'system'],
        ['approval requested again', 'ops'],
        ['cancelled', 'ops'],
        ['step cancelled', 'system'],
        ['finished', 'system'],
      ]),
    );
    expect(trail.entries.find((entry) => entry.action === 'cancelled')!.details).toContain(
      'client withdrew the notice',
    );
  });

  it('reassigning an approver stops the old links, mails the new person, and is recorded with link openings in the document', async () => {
    const { id, linkFor } = await startAwaitingExportApproval();
    const dana = await linkFor('dana@acme.example');
    const lee = await linkFor('lee@acme.example');
    expect((await fetch(dana)).status).toBe(200);
    const leeCsrf = await csrfOf(lee);

    const sam = { name: 'Sam Ortiz', email: 'sam@acme.example' };
    const route = `/v1/transitions/${id}/approvers`;
    expect((await stack.call('POST', route, { from: 'lee@acme.example', to: sam })).status).toBe(400);
    expect(
      (await stack.call('POST', route, { from: 'nobody@acme.example', to: sam, reason: 'x' })).status,
    ).toBe(409);
    expect(
      (
        await stack.call('POST', route, {
          from: 'lee@acme.example',
          to: { name: 'Dana', email: 'dana@acme.example' },
          reason: 'x',
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await stack.call(
          'POST',
          route,
          { from: 'lee@acme.example', to: sam, reason: 'Lee left Acme' },
          auditorKey,
        )
      ).status,
    ).toBe(403);
    const reassigned = await stack.call('POST', route, {
      from: 'lee@acme.example',
      to: sam,
      reason: 'Lee left Acme',
    });
    expect(reassigned.status).toBe(200);
    const state = (await reassigned.json()) as TransitionState;
    expect(pendingApproval(state)!.approvers).toEqual(['dana@acme.example', 'sam@acme.example']);
    expect(state.controls.at(-1)).toMatchObject({
      action: 'approver-reassigned',
      actor: 'ops',
      reason: 'Lee left Acme',
      details: { from: 'lee@acme.example', to: 'sam@acme.example' },
    });

    const leePage = await (await fetch(lee)).text();
    expect(leePage).toContain('no longer an approver');
    expect(leePage).not.toContain('name="csrf"');
    expect((await decide(lee, 'approve', leeCsrf)).status).toBe(409);

    const samLink = await linkFor('sam@acme.example');
    expect((await decide(samLink, 'approve', await csrfOf(samLink))).status).toBe(200);
    const done = await waitForState<TransitionState>(stack, id, (current) =>
      current.steps.some((step) => step.key === 'data-export' && step.documentId !== undefined),
    );
    expect(pendingApproval(done)).toMatchObject({
      status: 'approved',
      decisions: [expect.objectContaining({ approver: 'sam@acme.example', decision: 'approve' })],
    });
    const document = await (await stack.call('GET', `/v1/transitions/${id}/documents/02-data-export`)).text();
    expect(document).toContain('approver-reassigned');
    expect(document).toContain('Lee left Acme');
    expect(document).toMatch(/Approval link openings[\s\S]*dana@acme\.example \| `data-export-1`/);
  });
});
