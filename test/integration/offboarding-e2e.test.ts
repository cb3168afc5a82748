import { createHash } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
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

const linkOf = (mail: ParsedMail) =>
  /(http:\/\/[^\s>]+\/approvals\/[A-Za-z0-9_.-]+)/.exec(mail.text ?? '')?.[1];

/** Opens the approval link from the approver's email and presses a button, as a person would. */
async function decideFromMail(title: string, decision: 'approve' | 'reject', comment: string) {
  const mail = await stack.waitForMail((m) => m.subject === `Approval needed: ${title} for Acme Dental LLC`);
  const link = linkOf(mail)!;
  expect(link).toBeDefined();
  expect(mail.html).toContain(link);
  const page = await fetch(link);
  expect(page.status).toBe(200);
  const html = await page.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const posted = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(link).origin },
    body: new URLSearchParams({ decision, comment, csrf }).toString(),
  });
  return { link, csrf, posted, text: await posted.text() };
}

async function completeTask(id: string, taskId: string, evidence: Record<string, string>) {
  await waitForState<TransitionState>(stack, id, (state) =>
    state.tasks.some((task) => task.id === taskId && task.status === 'open'),
  );
  const response = await stack.call('POST', `/v1/transitions/${id}/tasks/${taskId}/complete`, { evidence });
  expect(response.status).toBe(200);
}

describe('a full offboarding over HTTP with approvals from real emails', () => {
  it('runs all 8 steps to completion and leaves a verifiable hash chain of documents', async () => {
    const body = offboardingBody({
      terms: {
        noticeReceivedAt: new Date().toISOString(),
        noticePeriod: 'PT6S',
        transitionPeriod: 'PT8S',
        retentionPeriod: 'PT2S',
        approvalTimeout: 'PT2M',
        reminderInterval: 'PT1M',
      },
      scope: {
        devices: [{ id: 'srv-01', hostname: 'srv-01.acme.local', type: 'server', agents: ['rmm', 'backup'] }],
        credentials: [{ id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' }],
        dataSets: [
          {
            id: 'ehr-backups',
            description: 'EHR database backups',
            destination: 'client S3 bucket',
            format: 'pg_dump',
          },
        ],
        backupJobs: [],
      },
      approvalSteps: ['data-export', 'agent-removal', 'credential-rotation', 'retention-deletion'],
    });
    const id = `offboarding-${body.client.id}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);

    const timeline = await stack.waitForMail((m) => m.subject === 'Termination timeline for Acme Dental LLC');
    expect(timeline.text).toContain('Cutover');

    await completeTask(id, 'data-export.ehr-backups', {
      text: '12.4 GiB exported, sha256 9f2c…',
      url: 'https://files.example/ehr',
    });
    const exportDecision = await decideFromMail('Data export manifest', 'approve', 'All files received.');
    expect(exportDecision.posted.status).toBe(200);
    expect(exportDecision.text).toContain('Your decision (approve)');

    // A spent link decides nothing more; its page says so.
    const reused = await fetch(exportDecision.link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        decision: 'reject',
        comment: 'again',
        csrf: exportDecision.csrf,
      }).toString(),
    });
    expect(reused.status).toBe(409);

    const removal = await decideFromMail('Agent removal record', 'approve', 'Go ahead.');
    expect(removal.posted.status).toBe(200);
    await completeTask(id, 'agent-removal.srv-01', {
      text: 'RMM and backup agents uninstalled; no check-in for 24h',
    });

    expect(
      (await decideFromMail('Credential rotation and access revocation record', 'approve', '')).posted.status,
    ).toBe(200);
    const rotated = 'N3w-Dom@in-Admin-Secret-7781';
    await waitForState<TransitionState>(stack, id, (state) =>
      state.credentials.some((c) => c.id === 'domain-admin' && c.status === 'awaiting'),
    );
    expect(
      (
        await stack.call(
          'POST',
          `/v1/transitions/${id}/credentials/domain-admin`,
          { secret: rotated },
          auditorKey,
        )
      ).status,
    ).toBe(403);
    const stored = await stack.call('POST', `/v1/transitions/${id}/credentials/domain-admin`, {
      secret: rotated,
    });
    expect(stored.status).toBe(201);
    const reference = (await stored.json()) as { vaultId: string; version: number; fingerprint: string };
    expect(reference).toEqual({
      vaultId: `${id}/credential-rotation/domain-admin`,
      version: 1,
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(
      (await stack.call('POST', `/v1/transitions/${id}/credentials/domain-admin`, { secret: 'again' }))
        .status,
    ).toBe(409);

    // The reveal link works exactly once: GET shows a button, POST shows the credential, then never again.
    const revealMail = await stack.waitForMail(
      (m) => m.subject === 'New credential ready: msp-admin on Active Directory for Acme Dental LLC',
    );
    expect(revealMail.text).not.toContain(rotated);
    const revealLink = /(http:\/\/[^\s>]+\/reveal\/[A-Za-z0-9_.-]+)/.exec(revealMail.text ?? '')![1]!;
    const button = await (await fetch(revealLink)).text();
    expect(button).not.toContain(rotated);
    const revealCsrf = /name="csrf" value="([^"]+)"/.exec(button)![1]!;
    const revealPost = () =>
      fetch(revealLink, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: revealCsrf }).toString(),
      });
    const revealed = await revealPost();
    expect(revealed.status).toBe(200);
    expect(await revealed.text()).toContain(rotated);
    const second = await revealPost();
    expect(second.status).toBe(409);
    expect(await second.text()).not.toContain(rotated);
    const afterwards = await (await fetch(revealLink)).text();
    expect(afterwards).toContain('already revealed');
    expect(afterwards).toContain('dana@acme.example');
    expect(afterwards).not.toContain(rotated);

    await completeTask(id, 'credential-rotation.domain-admin', {
      text: 'msp-admin disabled, sessions revoked, old vault entry destroyed',
    });

    expect(
      (await decideFromMail('Certificate of data deletion', 'approve', 'Delete it.')).posted.status,
    ).toBe(200);
    await completeTask(id, 'retention-deletion.ehr-backups', {
      text: 'All copies purged',
      method: 'Purge (cryptographic erase)',
      tool: 'restic forget --prune + bucket lifecycle',
      verification: 'restic snapshots shows none; bucket listing empty',
    });

    const final = await waitForState<TransitionState>(stack, id, (state) => state.status === 'completed');
    expect(final.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));
    expect(final.approvals.map((a) => [a.step, a.status, a.decisions[0]?.approver])).toEqual([
      ['data-export', 'approved', 'dana@acme.example'],
      ['agent-removal', 'approved', 'dana@acme.example'],
      ['credential-rotation', 'approved', 'dana@acme.example'],
      ['retention-deletion', 'approved', 'dana@acme.example'],
    ]);

    const listed = (await (
      await stack.call('GET', `/v1/transitions/${id}/documents`, undefined, auditorKey)
    ).json()) as {
      documents: { id: string; sha256: string; previousSha256: string | null }[];
    };
    expect(listed.documents).toHaveLength(8);
    let previous: string | null = null;
    for (const doc of listed.documents) {
      const md = Buffer.from(
        await (
          await stack.call('GET', `/v1/transitions/${id}/documents/${doc.id}`, undefined, auditorKey)
        ).arrayBuffer(),
      );
      expect(createHash('sha256').update(md).digest('hex')).toBe(doc.sha256);
      expect(doc.previousSha256).toBe(previous);
      expect(md.toString()).toContain(previous ?? 'none (first document)');
      previous = doc.sha256;
    }
    const certificate = await (
      await stack.call('GET', `/v1/transitions/${id}/documents/07-retention-deletion?format=html`)
    ).text();
    for (const field of [
      'Purge (cryptographic erase)',
      'restic forget',
      'bucket listing empty',
      'ops',
      'dana@acme.example',
    ]) {
      expect(certificate).toContain(field);
    }
    const rotationDoc = await (
      await stack.call('GET', `/v1/transitions/${id}/documents/05-credential-rotation`)
    ).text();
    expect(rotationDoc).toContain(reference.fingerprint);
    const closureDoc = await (await stack.call('GET', `/v1/transitions/${id}/documents/08-closure`)).text();
    expect(closureDoc).toMatch(/domain-admin.*revealed.*dana@acme\.example/);
    for (const doc of listed.documents) {
      const text = await (
        await stack.call('GET', `/v1/transitions/${id}/documents/${doc.id}?format=html`)
      ).text();
      expect(text).not.toContain(rotated);
    }
    expect(stack.logs.join('\n')).not.toContain(rotated);
    const exportDoc = await (
      await stack.call('GET', `/v1/transitions/${id}/documents/02-data-export`)
    ).text();
    expect(exportDoc).toContain('All files received.');
    expect(exportDoc).toContain('12.4 GiB exported');
  }, 120_000);
});
