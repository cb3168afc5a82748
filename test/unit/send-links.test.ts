import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { IssuedLink, LinksInput } from '../../domain/activity-contracts.js';
import { createFileLedger, LedgerUnavailableError } from '../../activities/ledger.js';
import { projectRoot } from '../../config/config.js';
import { createFilesystemDocumentStore } from '../../connectors/documents/filesystem.js';
import { MailNotSentError, type Mailer, type OutgoingMail } from '../../connectors/mail/port.js';
import { sha256Hex, verifyLinkToken } from '../../security/links.js';
import { createTemplateRenderer } from '../../templates/render.js';

/** Records every message handed to it; `failNext` makes the next send fail after the hand-over attempt. */
function fakeMailer() {
  const attempts: OutgoingMail[] = [];
  const delivered: OutgoingMail[] = [];
  let failure: Error | null = null;
  const mailer: Mailer = {
    async send(mail) {
      attempts.push(mail);
      if (failure) {
        const error = failure;
        failure = null;
        throw error;
      }
      delivered.push(mail);
    },
  };
  return { mailer, attempts, delivered, failNext: (error: Error) => void (failure = error) };
}

const tokenIn = (mail: OutgoingMail) => /\/approvals\/([A-Za-z0-9_.-]+)/.exec(mail.text)![1]!;

let dir: string;
const secret = [{ id: 'l1', key: randomBytes(32) }];
const transitionId = 'offboarding-acme';

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'send-links-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function activitiesWith(mailer: Mailer, ledgerDir = path.join(dir, 'ledger')) {
  return createActivities({
    documents: createFilesystemDocumentStore(path.join(dir, 'documents')),
    mailer,
    templates: createTemplateRenderer(path.join(projectRoot, 'templates')),
    ledger: createFileLedger(ledgerDir),
    publicUrl: 'http://runbooks.test',
    msp: { name: 'Test MSP' },
    linkSecrets: secret,
    listRuns: async () => [],
    historyBytes: () => Promise.reject(new Error('no history here')),
    documentFactsSlice: () => Promise.reject(new Error('no run here')),
  });
}

/** Attempts of activities of the given run, in an activity context as the worker gives them. */
function inRun(runId: string) {
  const environment = new MockActivityEnvironment({ workflowExecution: { workflowId: transitionId, runId } });
  type Activities = ReturnType<typeof activitiesWith>;
  return {
    sendLinks: (activities: Activities, links: LinksInput) =>
      environment.run(activities.sendLinks, links) as Promise<IssuedLink[]>,
    sendEmail: (activities: Activities, mail: Parameters<Activities['sendEmail']>[0]) =>
      environment.run(activities.sendEmail, mail),
  };
}

const input: LinksInput = {
  transitionId,
  purpose: 'approval',
  requestId: 'data-export-1',
  round: 'request',
  approvers: [
    { name: 'Dana Reyes', email: 'dana@acme.example' },
    { name: 'Lee Park', email: 'lee@acme.example' },
  ],
  expiresAt: '2999-01-01T00:00:00.000Z',
  template: 'approval-request',
  data: { title: 'Data export manifest', clientName: 'Acme', deadline: '2999-01-01T00:00:00Z' },
};

describe('sendLinks retried', () => {
  it('mails the same token the failed attempt tried to send, and returns its hash', async () => {
    const mail = fakeMailer();
    const activities = activitiesWith(mail.mailer);
    const run = inRun(randomUUID());
    mail.failNext(new MailNotSentError('421 try again later'));
    await expect(run.sendLinks(activities, input)).rejects.toBeInstanceOf(MailNotSentError);
    const issued = await run.sendLinks(activities, input);

    expect(mail.attempts.map((m) => m.to[0])).toEqual([
      'dana@acme.example',
      'dana@acme.example',
      'lee@acme.example',
    ]);
    const [refused, retried, lee] = mail.attempts.map(tokenIn);
    expect(retried).toBe(refused);
    expect(lee).not.toBe(retried);
    expect(issued).toEqual([
      { approver: 'dana@acme.example', tokenHash: sha256Hex(retried!), delivery: 'sent' },
      { approver: 'lee@acme.example', tokenHash: sha256Hex(lee!), delivery: 'sent' },
    ]);
  });

  it('after a send that may have happened, mails nothing again and says so, with the same hash', async () => {
    const mail = fakeMailer();
    const activities = activitiesWith(mail.mailer);
    const run = inRun(randomUUID());
    mail.failNext(new Error('connection lost after the final dot'));
    await expect(run.sendLinks(activities, input)).rejects.toThrow('final dot');
    const issued = await run.sendLinks(activities, input);

    expect(mail.attempts.map((m) => m.to[0])).toEqual(['dana@acme.example', 'lee@acme.example']);
    expect(issued[0]).toEqual({
      approver: 'dana@acme.example',
      tokenHash: sha256Hex(tokenIn(mail.attempts[0]!)),
      delivery: 'in-doubt',
    });
    expect(issued[1]!.delivery).toBe('sent');
  });

  it('after a complete attempt whose result was lost, mails nothing and returns the same hashes', async () => {
    const mail = fakeMailer();
    const activities = activitiesWith(mail.mailer);
    const run = inRun(randomUUID());
    const first = await run.sendLinks(activities, input);
    const second = await run.sendLinks(activities, input);
    expect(second).toEqual(first);
    expect(mail.delivered).toHaveLength(2);
  });
});

describe('a transition started again', () => {
  it('mails its own links, each naming its run, and never one of the earlier run', async () => {
    const mail = fakeMailer();
    const activities = activitiesWith(mail.mailer);
    const [firstRun, secondRun] = [randomUUID(), randomUUID()];
    const first = await inRun(firstRun).sendLinks(activities, input);
    const second = await inRun(secondRun).sendLinks(activities, input);

    expect(mail.delivered).toHaveLength(4);
    expect(second.map((link) => link.tokenHash)).not.toEqual(
      expect.arrayContaining(first.map((link) => link.tokenHash)),
    );
    const runs = mail.delivered.map((m) => {
      const check = verifyLinkToken(secret, tokenIn(m), 'approval');
      return check.ok ? check.claims.runId : check.reason;
    });
    expect(runs).toEqual([firstRun, firstRun, secondRun, secondRun]);
    expect(new Set(mail.delivered.map((m) => m.idempotencyKey)).size).toBe(4);
  });
});

describe('an email with the ledger not writable', () => {
  it('fails before sending, on every attempt', async () => {
    const mail = fakeMailer();
    const ledgerDir = path.join(dir, 'ledger');
    // On a volume that is gone, reads find nothing recorded and every write fails.
    await symlink(path.join(dir, 'unmounted-volume', 'ledger'), ledgerDir);
    const activities = activitiesWith(mail.mailer, ledgerDir);
    const run = inRun(randomUUID());
    const notice = {
      idempotencyKey: `${transitionId}:timeline`,
      to: ['ops@msp.example'],
      template: 'notice',
      data: { subject: 'Termination timeline', paragraphs: [], rows: [], transitionId },
    };
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(run.sendEmail(activities, notice)).rejects.toBeInstanceOf(LedgerUnavailableError);
    expect(mail.attempts).toEqual([]);
  });
});

describe('links for many approvers', () => {
  it('are sent a few at a time, each once, and come back in the approvers’ order', async () => {
    const delivered: OutgoingMail[] = [];
    let sending = 0;
    let most = 0;
    const slowMailer: Mailer = {
      async send(mail) {
        sending++;
        most = Math.max(most, sending);
        await new Promise((resolve) => setTimeout(resolve, 5));
        sending--;
        delivered.push(mail);
      },
    };
    const approvers = Array.from({ length: 50 }, (_, i) => ({
      name: `Approver ${i}`,
      email: `approver-${i}@acme.example`,
    }));
    const run = inRun(randomUUID());
    const activities = activitiesWith(slowMailer);
    const issued = await run.sendLinks(activities, { ...input, approvers });

    expect(issued.map((link) => link.approver)).toEqual(approvers.map((a) => a.email));
    expect(issued.every((link) => link.delivery === 'sent')).toBe(true);
    expect(delivered).toHaveLength(50);
    expect(new Set(delivered.map((mail) => mail.to[0])).size).toBe(50);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(5);
    // Each hash is of the token its own approver was mailed.
    for (const link of issued) {
      const mail = delivered.find((m) => m.to[0] === link.approver)!;
      expect(link.tokenHash).toBe(sha256Hex(tokenIn(mail)));
    }
    // A retry after the results were lost mails no one again.
    expect(await run.sendLinks(activities, { ...input, approvers })).toEqual(issued);
    expect(delivered).toHaveLength(50);
  });
});
