// The offboarding's retention-deletion step alone: it waits until deletion is due (warning everyone
// ahead), asks the client, never starts while a legal hold is on, and certifies the deletion
// (NIST SP 800-88) from the evidence of its tasks.
import { describe, expect, it } from 'vitest';
import {
  completeTaskUpdate,
  legalHoldUpdate,
  releaseLegalHoldUpdate,
  stateQuery,
  type Evidence,
  type KeyHolder,
} from '../../../domain/definitions.js';
import { dateInWordsAndUtc } from '../../../domain/timeline.js';
import { uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';
import { allTasks, decideByMail, finishTask, waitFor } from '../../support/workflow-env.js';

const workflows = useStepHarness('retention-deletion');
const day = 24 * 3600 * 1000;

const dataSets = [
  { id: 'ehr-backups', description: 'EHR database backups' },
  { id: 'mail-archive', description: 'Mail archive' },
];

describe('offboarding step retention-deletion', () => {
  it('waits for deletionDueAt, the approval and the end of a legal hold; a second person validates each deletion; the certificate shows method, tool, verification and both signatories', async () => {
    const zone = 'America/New_York';
    const name = 'Deletion Dental';
    const request = await workflows.requestNow({
      client: { id: uniqueClientId('deletion'), name, timezone: zone },
      scope: { dataSets },
      approvalSteps: ['retention-deletion'],
    });
    const notice = Date.parse(request.terms.noticeReceivedAt);
    const jordan = { name: 'Jordan Lee', title: 'Systems engineer' };
    const sam = { name: 'Sam Ortiz', title: 'Service desk lead' };
    const operator = { actor: 'ops', reason: 'litigation notice from counsel' };
    let complete: (
      taskId: string,
      actor: string,
      actorHolder: KeyHolder,
      evidence: Evidence,
    ) => Promise<unknown>;
    const { state, tasks, handle, sent } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'retention-deletion', request },
      async (handle, sent) => {
        complete = (taskId, actor, actorHolder, evidence) =>
          handle.executeUpdate(completeTaskUpdate, { args: [{ taskId, actor, actorHolder, evidence }] });
        await handle.executeUpdate(legalHoldUpdate, { args: [operator] });
        const { dates } = await handle.query(stateQuery);
        const due = Date.parse(dates.deletionDueAt!);
        expect(due - notice).toBe(150 * day);

        // Nothing is asked before deletion is due; at the deadline the client is asked.
        await workflows.env.sleep(due - (await workflows.env.currentTimeMs()) - day);
        expect((await handle.query(stateQuery)).approvals).toEqual([]);
        await workflows.env.sleep(2 * day);
        const requested = await waitFor(() =>
          sent.find((mail) => mail.key === 'retention-deletion-1:request'),
        );
        expect(requested.at).toBeGreaterThanOrEqual(due);
        const asked = await workflows.mailWithSubject(
          `Approval needed: Certificate of data deletion for ${name}`,
        );
        expect(asked.text).toContain(
          'Approve the permanent deletion of every retained copy of your data (EHR database backups; Mail archive). This cannot be undone.',
        );
        await decideByMail(handle, asked, 'approve', 'go ahead once counsel agrees');

        // Approved, but held: no deletion task while the legal hold is on, however long it lasts.
        await workflows.env.sleep(10 * day);
        const held = await handle.query(stateQuery);
        expect(held.approvals[0]!.status).toBe('approved');
        expect(held.legalHold).toBe(true);
        expect(held.currentStep).toBe('retention-deletion');
        expect(held.steps[0]!.finishedAt).toBeUndefined();
        expect(held.tasks).toEqual([]);

        await handle.executeUpdate(releaseLegalHoldUpdate, {
          args: [{ actor: 'ops', reason: 'case settled' }],
        });
        await waitFor(async () => ((await handle.query(stateQuery)).tasks.length ? true : undefined));
        await complete('retention-deletion.ehr-backups', 'jordan', jordan, {
          text: 'backups purged',
          method: 'Purge',
          tool: 'shred',
          verification: 'read-back of every sector',
        });
        await finishTask(
          handle,
          'retention-deletion.mail-archive',
          {
            text: 'archive purged',
            method: 'Purge',
            tool: 'Exchange compliance purge',
            verification: 'search finds nothing',
          },
          'sam',
        );

        // Each deletion is then validated by someone who did not perform it: a task of its own, mailed.
        const validating = await waitFor(async () => {
          const tasks = (await handle.query(stateQuery)).tasks.filter((task) =>
            task.id.endsWith('.validation'),
          );
          return tasks.length === 2 ? tasks : undefined;
        });
        expect(validating.map((task) => [task.id, task.status, task.evidenceNeeded])).toEqual([
          ['retention-deletion.ehr-backups.validation', 'open', 'validation'],
          ['retention-deletion.mail-archive.validation', 'open', 'validation'],
        ]);
        expect(validating[0]!.title).toBe(
          'Validate the deletion of EHR database backups: someone other than Jordan Lee (jordan) repeats its verification and records the result',
        );
        await waitFor(() => sent.find((mail) => mail.key.endsWith(':retention-deletion:tasks:validation')));
        const ehrValidation = 'retention-deletion.ehr-backups.validation';
        const checked = {
          text: 'listed the backup store again: no EHR backup left',
          validation: {
            verificationMethod: 'listing of the backup store',
            verificationResult: 'passed' as const,
          },
        };
        // The performer is refused, by the same key or as the same person behind another key.
        await expect(complete(ehrValidation, 'jordan', jordan, checked)).rejects.toMatchObject({
          cause: {
            type: 'Conflict',
            message: expect.stringContaining(
              'this task checks the work of Jordan Lee (key jordan); another person must complete it',
            ),
          },
        });
        await expect(
          complete(ehrValidation, 'jordan-laptop', { name: ' jordan lee ' }, checked),
        ).rejects.toMatchObject({ cause: { type: 'Conflict' } });
        // Text alone does not validate: what was checked and its result are required.
        await expect(complete(ehrValidation, 'sam', sam, { text: 'looked at it' })).rejects.toMatchObject({
          cause: {
            type: 'InvalidRequest',
            message: expect.stringContaining(
              'evidence.validation (verificationMethod, verificationResult) is required',
            ),
          },
        });
        expect((await handle.query(stateQuery)).tasks.find((task) => task.id === ehrValidation)!.status).toBe(
          'open',
        );
        await complete(ehrValidation, 'sam', sam, checked);
        await complete('retention-deletion.mail-archive.validation', 'jordan', jordan, {
          text: 'searched the mailboxes again',
          validation: {
            verificationMethod: 'compliance search of every mailbox',
            verificationResult: 'passed',
          },
        });
        return { state: await handle.result(), tasks: await allTasks(handle), handle, sent };
      },
    );

    expect(state.status).toBe('completed');
    expect(state.steps[0]).toMatchObject({
      key: 'retention-deletion',
      status: 'completed',
      documentId: '01-retention-deletion',
    });
    const due = Date.parse(state.dates.deletionDueAt!);
    const reminders = sent.filter((mail) => mail.key.includes(':reminder:deletion:'));
    expect(reminders.map((mail) => Math.round((due - mail.at) / day))).toEqual([7, 1]);
    const released = state.controls.find((control) => control.action === 'legal-hold-released')!;
    for (const task of tasks) expect(task.createdAt >= released.at).toBe(true);
    expect(tasks.map((task) => [task.id, task.status, task.completedBy])).toEqual([
      ['retention-deletion.ehr-backups', 'completed', 'jordan'],
      ['retention-deletion.mail-archive', 'completed', 'sam'],
      ['retention-deletion.ehr-backups.validation', 'completed', 'sam'],
      ['retention-deletion.mail-archive.validation', 'completed', 'jordan'],
    ]);
    expect(state.controls.map((control) => control.action)).toEqual([
      'legal-hold-placed',
      'legal-hold-released',
    ]);

    const completed = (asset: string) =>
      tasks.find((task) => task.id === `retention-deletion.${asset}`)!.completedAt!;
    const text = await workflows.documentText(handle, '01-retention-deletion');
    // A paragraph of its own, not a last row of the header's table.
    expect(text).toContain(
      `|\n\nRetained copies of the client's data were due for deletion on ${dateInWordsAndUtc(state.dates.deletionDueAt!, zone)}.`,
    );
    expect(text).toContain(
      '| Media and data sanitized | EHR database backups (ehr-backups); Mail archive (mail-archive) |',
    );
    expect(text).toContain('| Sanitization method | Purge |');
    expect(text).toContain('| Tool used | shred; Exchange compliance purge |');
    expect(text).toContain('| Verification method | read-back of every sector; search finds nothing |');
    expect(text).toContain('| Performed by | Jordan Lee (jordan); sam |');
    // The validators are the second persons; the client's approver only consented, beforehand.
    expect(text).toContain('| Validated by | Sam Ortiz (sam); Jordan Lee (jordan) |');
    expect(text).toMatch(
      /## Client's prior consent\n\nThe client consented to the deletion before anything was deleted:\n\n- dana@acme\.example, /,
    );
    /** The rows of one data set's record: `| Field | Value |` under its heading. */
    const recordOf = (heading: string) =>
      Object.fromEntries(
        text
          .slice(text.indexOf(`#### ${heading}`))
          .split('\n\n')[1]!
          .split('\n')
          .slice(2)
          .map((row) => row.split(' | ').map((cell) => cell.replace(/^\| | \|$/g, ''))),
      );
    expect(recordOf('EHR database backups')).toEqual({
      // Typed by a person, not verified by a connector.
      Record: 'manual entry',
      Method: 'Purge',
      Tool: 'shred',
      Verification: 'read-back of every sector',
      'Performed by': 'Jordan Lee, Systems engineer (jordan)',
      Completed: dateInWordsAndUtc(completed('ehr-backups'), zone),
      'Validated by': 'Sam Ortiz, Service desk lead (sam)',
      'What the validator checked again': 'listing of the backup store',
      'Validation result': 'passed',
      "Validator's record": 'listed the backup store again: no EHR backup left',
      Validated: dateInWordsAndUtc(completed('ehr-backups.validation'), zone),
    });
    expect(recordOf('Mail archive')).toMatchObject({
      'Performed by': 'sam',
      'Validated by': 'Jordan Lee, Systems engineer (jordan)',
      'What the validator checked again': 'compliance search of every mailbox',
      Validated: dateInWordsAndUtc(completed('mail-archive.validation'), zone),
    });
    // Each signatory on a line of their own, to sign and date.
    expect(text).toContain(
      [
        '| Role | Name | Title | Signature | Date |',
        '| --- | --- | --- | --- | --- |',
        '| Performed the deletion | Jordan Lee (jordan) | Systems engineer | | |',
        '| Performed the deletion | sam | — | | |',
        '| Validated the deletion | Sam Ortiz (sam) | Service desk lead | | |',
        '| Validated the deletion | Jordan Lee (jordan) | Systems engineer | | |',
      ].join('\n'),
    );
    const lastTask = tasks
      .filter((task) => !task.id.endsWith('.validation'))
      .map((task) => task.completedAt!)
      .sort()
      .at(-1)!;
    expect(text).toContain(`| Date | ${dateInWordsAndUtc(lastTask, zone)} |`);
    expect(text).toMatch(/\| .+ \| legal-hold-placed \| ops \| litigation notice from counsel \|/);
    expect(text).toMatch(/\| .+ \| legal-hold-released \| ops \| case settled \|/);
  });

  it('approved and held by a legal hold, the step no longer reads awaiting-approval', async () => {
    const request = await workflows.requestNow({
      client: { id: uniqueClientId('deletion'), name: 'Held Dental', timezone: 'UTC' },
      approvalSteps: ['retention-deletion'],
    });
    await withStep(
      workflows,
      { kind: 'offboarding', step: 'retention-deletion', request },
      async (handle) => {
        await handle.executeUpdate(legalHoldUpdate, { args: [{ actor: 'ops', reason: 'litigation' }] });
        await workflows.env.sleep(151 * day);
        await decideByMail(
          handle,
          await workflows.mailWithSubject('Approval needed: Certificate of data deletion for Held Dental'),
          'approve',
        );
        const held = await handle.query(stateQuery);
        await handle.terminate('test over');
        expect(held.approvals[0]!.status).toBe('approved');
        expect(held.steps[0]!.status).not.toBe('awaiting-approval');
      },
    );
  });
});
