import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decideUpdate,
  extendUpdate,
  legalHoldUpdate,
  releaseLegalHoldUpdate,
  stateQuery,
  type TransitionState,
} from '../../domain/definitions.js';
import { dateInWordsAndUtc } from '../../domain/timeline.js';
import { onboardingRequest } from '../factories.js';
import { expectInert, hostile, hostileLine } from '../support/hostile-text.js';
import { finishTask, knownTokenHash, useWorkflowEnv, waitFor } from '../support/workflow-env.js';

// The time-skipping server, the bundle, the mailbox and a worker with the real activities per test.
const workflows = useWorkflowEnv({ name: 'timers' });
const { documents, withWorker, requestNow, subjects, mailWithSubject } = workflows;
let env: TestWorkflowEnvironment;
beforeAll(() => {
  env = workflows.env;
});

const day = 24 * 3600 * 1000;

// Updates are sent while no one awaits a result, so the server skips time only on env.sleep: an
// update sent while `execute` is skipping time can lose its outcome ("update not found").
describe('offboarding timers on the time-skipping server', () => {
  it('waits P30D, P60D and P90D and completes in seconds, deleting only after deletionDueAt', async () => {
    const request = await requestNow();
    const started = Date.now();
    const state = (await withWorker('timers-1', () =>
      env.client.workflow.execute('offboardingWorkflow', {
        taskQueue: 'timers-1',
        workflowId: `offboarding-${request.client.id}`,
        args: [request],
      }),
    )) as TransitionState;
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(state.status).toBe('completed');
    const notice = Date.parse(request.terms.noticeReceivedAt);
    expect(Date.parse(state.dates.cutoverAt!) - notice).toBe(30 * day);
    expect(Date.parse(state.dates.assistanceEndsAt!) - notice).toBe(60 * day);
    expect(Date.parse(state.dates.deletionDueAt!) - notice).toBe(150 * day);
    const deletion = state.steps.find((step) => step.key === 'retention-deletion')!;
    expect(Date.parse(deletion.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(state.dates.deletionDueAt!));
    const { runId } = await env.client.workflow.getHandle(state.id).describe();
    const docs = await documents().list({ transitionId: state.id, runId });
    expect(docs.map((doc) => doc.step)).toEqual(state.steps.map((step) => step.key));
  });

  it('reminds everyone 7 days and 1 day ahead of cutover and of deletion', async () => {
    const request = await requestNow({
      clientId: 'reminders-client',
      client: { id: 'reminders-client', name: 'Reminder Dental', timezone: 'Europe/Berlin' },
    });
    const { state, sent } = await withWorker('timers-2', async (sent) => {
      const state = (await env.client.workflow.execute('offboardingWorkflow', {
        taskQueue: 'timers-2',
        workflowId: `offboarding-${request.client.id}`,
        args: [request],
      })) as TransitionState;
      return { state, sent };
    });
    const reminders = sent.filter((mail) => mail.key.includes(':reminder:'));
    const cutover = Date.parse(state.dates.cutoverAt!);
    const deletion = Date.parse(state.dates.deletionDueAt!);
    expect(reminders.map((mail) => mail.key.split(':reminder:')[1]!.split(':')[0])).toEqual([
      'cutover',
      'cutover',
      'deletion',
      'deletion',
    ]);
    const expected = [cutover - 7 * day, cutover - day, deletion - 7 * day, deletion - day];
    reminders.forEach((mail, index) => {
      expect(Math.abs(mail.at - expected[index]!)).toBeLessThan(60_000);
      expect(mail.to).toEqual(['dana@acme.example', 'ops@msp.example']);
    });
    const received = await subjects();
    expect(
      received.filter((subject) => subject.startsWith('Reminder: Service cutover for Reminder Dental')),
    ).toHaveLength(2);
    expect(
      received.filter((subject) =>
        subject.startsWith('Reminder: Deletion of retained data for Reminder Dental'),
      ),
    ).toHaveLength(2);
  });

  it('reminds approvers every reminderInterval and escalates to the operators at approvalTimeout', async () => {
    const request = await requestNow({
      clientId: 'escalation-client',
      approvalSteps: ['data-export'],
      terms: { approvalTimeout: 'P5D', reminderInterval: 'P1D', onTimeout: 'escalate' },
    });
    await withWorker('timers-3', async (sent) => {
      const handle = await env.client.workflow.start('offboardingWorkflow', {
        taskQueue: 'timers-3',
        workflowId: `offboarding-${request.client.id}`,
        args: [request],
      });
      const requested = await waitFor(() => sent.find((mail) => mail.key === 'data-export-1:request'));
      await env.sleep('6 days');
      const escalation = await waitFor(() =>
        sent.find((mail) => mail.key.endsWith(':escalated:data-export-1')),
      );
      const rounds = sent.filter((mail) => mail.key.startsWith('data-export-1:reminder-'));
      expect(rounds.map((mail) => Math.round((mail.at - requested.at) / day))).toEqual([1, 2, 3, 4]);
      expect(Math.round((escalation.at - requested.at) / day)).toBe(5);
      expect(escalation.to).toEqual(['ops@msp.example']);
      const state = await handle.query(stateQuery);
      expect(state.approvals[0]).toMatchObject({ status: 'pending', remindersSent: 4 });
      expect(state.approvals[0]!.escalatedAt).toBeDefined();
      expect(state.steps.find((step) => step.key === 'data-export')!.status).toBe('awaiting-approval');
      const mail = await mailWithSubject(
        `Escalation: no decision on Data export manifest for ${request.client.name}`,
      );
      // The deadline as the operators read every other date: in words, in the client's time zone.
      const deadline = dateInWordsAndUtc(state.approvals[0]!.deadline, request.client.timezone);
      expect(mail.text).toContain(`before the deadline, ${deadline}.`);
      expect(mail.text).not.toContain(state.approvals[0]!.deadline);
      await handle.terminate('test over');
    });
  });

  it('with onTimeout reject, an unanswered approval is rejected at the deadline and the step held with its document', async () => {
    const request = await requestNow({
      clientId: 'timeout-reject-client',
      approvalSteps: ['data-export'],
      terms: { approvalTimeout: 'P2D', reminderInterval: 'P1D', onTimeout: 'reject' },
    });
    await withWorker('timers-4', async (sent) => {
      const handle = await env.client.workflow.start('offboardingWorkflow', {
        taskQueue: 'timers-4',
        workflowId: `offboarding-${request.client.id}`,
        args: [request],
      });
      await waitFor(() => sent.find((mail) => mail.key === 'data-export-1:request'));
      await env.sleep('3 days');
      await waitFor(() => sent.find((mail) => mail.key.endsWith(':rejected:data-export:1')));
      const state = await handle.query(stateQuery);
      expect(state.approvals[0]).toMatchObject({ status: 'rejected', decisions: [] });
      expect(state.steps.find((step) => step.key === 'data-export')!.status).toBe('rejected');
      const docs = await documents().list({ transitionId: state.id, runId: handle.firstExecutionRunId });
      expect(docs.map((doc) => doc.id)).toContain('02-data-export-rejected-1');
      await handle.terminate('test over');
    });
  });

  it('a legal hold keeps deletion from starting past deletionDueAt; an extension moves the dates; release resumes', async () => {
    const request = await requestNow({
      clientId: 'hold-client',
      scope: {
        dataSets: [{ id: 'ehr-backups', description: 'EHR database backups', format: 'pg_dump' }],
      },
    });
    const operator = { actor: 'ops', reason: 'litigation notice from counsel' };
    await withWorker('timers-5', async () => {
      const handle = await env.client.workflow.start('offboardingWorkflow', {
        taskQueue: 'timers-5',
        workflowId: `offboarding-${request.client.id}`,
        args: [request],
      });
      const planned = await handle.query(stateQuery);
      const extended = await handle.executeUpdate(extendUpdate, {
        args: [{ ...operator, period: 'retentionPeriod', by: 'P10D' }],
      });
      expect(Date.parse(extended.dates.deletionDueAt!) - Date.parse(planned.dates.deletionDueAt!)).toBe(
        10 * day,
      );
      expect(extended.dates.cutoverAt).toBe(planned.dates.cutoverAt);
      await handle.executeUpdate(legalHoldUpdate, { args: [operator] });
      await finishTask(handle, 'data-export.ehr-backups', { text: 'exported, 12 GB, sha256 recorded' });

      await env.sleep('170 days');
      const held = await handle.query(stateQuery);
      expect(Date.parse(held.dates.deletionDueAt!)).toBeLessThan(await env.currentTimeMs());
      expect(held.currentStep).toBe('retention-deletion');
      expect(held.legalHold).toBe(true);
      expect(held.tasks.filter((task) => task.step === 'retention-deletion')).toEqual([]);

      await handle.executeUpdate(releaseLegalHoldUpdate, {
        args: [{ actor: 'ops', reason: 'case settled' }],
      });
      const releasedAt = await env.currentTimeMs();
      await finishTask(handle, 'retention-deletion.ehr-backups', {
        text: 'purged',
        method: 'Purge',
        tool: 'shred',
        verification: 'read-back',
      });
      await finishTask(
        handle,
        'retention-deletion.ehr-backups.validation',
        {
          text: 'read back again',
          validation: { verificationMethod: 'read-back', verificationResult: 'passed' },
        },
        'second-operator',
      );
      const final = (await handle.result()) as TransitionState;
      expect(final.status).toBe('completed');
      const deletion = final.steps.find((step) => step.key === 'retention-deletion')!;
      expect(Date.parse(deletion.finishedAt!)).toBeGreaterThanOrEqual(releasedAt);
      expect(final.controls.map((control) => control.action)).toEqual([
        'extended',
        'legal-hold-placed',
        'legal-hold-released',
      ]);
    });
  });
});

describe('onboarding credential intake on the time-skipping server', () => {
  it('reminds the approvers every reminderInterval and tells the operators once at approvalTimeout', async () => {
    const request = onboardingRequest({
      terms: { approvalTimeout: 'P3D', reminderInterval: 'P1D' },
      scope: { credentials: [{ id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' }] },
    });
    await withWorker('timers-6', async (sent) => {
      const handle = await env.client.workflow.start('onboardingWorkflow', {
        taskQueue: 'timers-6',
        workflowId: `onboarding-${request.client.id}`,
        args: [request],
      });
      const requested = await waitFor(() => sent.find((mail) => mail.key === 'domain-admin:request'));
      await env.sleep('4.5 days');
      await waitFor(
        () => sent.filter((mail) => mail.key.startsWith('domain-admin:reminder-')).length === 4 || undefined,
      );
      const escalation = await waitFor(() =>
        sent.find((mail) => mail.key.endsWith(':credentials-escalated:credential-vaulting')),
      );
      const reminders = sent.filter((mail) => mail.key.startsWith('domain-admin:reminder-'));
      expect(reminders.map((mail) => Math.round((mail.at - requested.at) / day))).toEqual([1, 2, 3, 4]);
      expect(reminders.every((mail) => mail.to.join() === 'riley@bright.example')).toBe(true);
      expect(Math.round((escalation.at - requested.at) / day)).toBe(3);
      expect(escalation.to).toEqual(['ops@msp.example']);
      expect(sent.filter((mail) => mail.key.includes('credentials-escalated'))).toHaveLength(1);
      const state = await handle.query(stateQuery);
      expect(state.credentials[0]).toMatchObject({ status: 'awaiting', remindersSent: 4 });
      expect(state.steps.find((step) => step.key === 'credential-vaulting')!.status).toBe(
        'awaiting-credentials',
      );
      await handle.terminate('test over');
    });
  });
});

// The workflows write the paragraphs of their notices in Markdown around names the client gave:
// those names must read as text there, never as links or structure.
describe('user text in the notices the workflows write', () => {
  it('a rejection: the comment and the client name stay text', async () => {
    const name = hostileLine('client');
    const request = await requestNow({
      client: { id: 'hostile-rejection', name, timezone: 'UTC' },
      approvalSteps: ['data-export'],
    });
    await withWorker('timers-7', async (sent) => {
      const handle = await env.client.workflow.start('offboardingWorkflow', {
        taskQueue: 'timers-7',
        workflowId: `offboarding-${request.client.id}`,
        args: [request],
      });
      const asked = await mailWithSubject(`Approval needed: Data export manifest for ${name}`);
      expectInert(String(asked.html), [name]);
      // The page asks until the workflow knows the link (the mail leaves a moment before it does).
      const tokenHash = await knownTokenHash(handle, asked, 'approvals');
      await handle.executeUpdate(decideUpdate, {
        args: [
          {
            tokenHash,
            decision: 'reject',
            comment: hostile('comment'),
            ip: '203.0.113.7',
            userAgent: 'test',
          },
        ],
      });
      await waitFor(() => sent.find((mail) => mail.key.endsWith(':rejected:data-export:1')));
      const rejected = await mailWithSubject(`Rejected: Data export manifest for ${name}`);
      expectInert(String(rejected.html), [`dana@acme.example decided reject: ${hostile('comment')}`]);
      await handle.terminate('test over');
    });
  });

  it('credentials asked for and missing: account and system stay text', async () => {
    const request = onboardingRequest({
      client: { id: 'hostile-intake', name: hostileLine('client'), timezone: 'UTC' },
      terms: { approvalTimeout: 'P1D', reminderInterval: 'P1D' },
      scope: {
        credentials: [{ id: 'domain-admin', system: hostileLine('system'), account: hostileLine('account') }],
      },
    });
    await withWorker('timers-8', async (sent) => {
      const handle = await env.client.workflow.start('onboardingWorkflow', {
        taskQueue: 'timers-8',
        workflowId: `onboarding-${request.client.id}`,
        args: [request],
      });
      await waitFor(() =>
        sent.find((mail) => mail.key.endsWith(':credentials-requested:credential-vaulting')),
      );
      await env.sleep('1.5 days');
      await waitFor(() =>
        sent.find((mail) => mail.key.endsWith(':credentials-escalated:credential-vaulting')),
      );
      const listed = `domain-admin (${hostileLine('account')} on ${hostileLine('system')})`;
      for (const subject of ['Credentials requested from', 'Escalation: credentials still missing from']) {
        const mail = await mailWithSubject(`${subject} ${request.client.name}`);
        expectInert(String(mail.html), [listed]);
      }
      await handle.terminate('test over');
    });
  });
});
