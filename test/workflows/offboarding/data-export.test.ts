// The offboarding's data-export step alone: a task per data set, finished with evidence; the client
// confirms receipt only when the request lists data-export among its approvalSteps.
import { describe, expect, it } from 'vitest';
import { stateQuery } from '../../../domain/definitions.js';
import { uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';
import { allTasks, decideByMail, finishTask } from '../../support/workflow-env.js';

const workflows = useStepHarness('data-export');

const dataSets = [
  {
    id: 'ehr-backups',
    description: 'EHR database backups',
    destination: 'client SFTP',
    format: 'SQL dump',
  },
  { id: 'mail-archive', description: 'Mail archive' },
];

describe('offboarding step data-export', () => {
  it('without data-export in approvalSteps: a task per data set, the evidence in the manifest, no approval asked', async () => {
    const name = 'Export Dental One';
    const request = await workflows.requestNow({
      client: { id: uniqueClientId('export'), name, timezone: 'UTC' },
      scope: { dataSets },
      approvalSteps: [],
    });
    const { state, tasks, handle, sent } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'data-export', request },
      async (handle, sent) => {
        const tasksMail = await workflows.mailWithSubject(`Tasks to do: Data export manifest for ${name}`);
        expect(tasksMail.text).toContain(
          '`data-export.ehr-backups`: Export EHR database backups to client SFTP in SQL dump; record the size and SHA-256',
        );
        expect(tasksMail.text).toContain(
          '`data-export.mail-archive`: Export Mail archive to the agreed destination in a standard format; record the size and SHA-256',
        );
        const waiting = await handle.query(stateQuery);
        expect(waiting.steps[0]!.status).toBe('awaiting-task');
        expect(waiting.tasks.map((task) => [task.id, task.status])).toEqual([
          ['data-export.ehr-backups', 'open'],
          ['data-export.mail-archive', 'open'],
        ]);
        await finishTask(
          handle,
          'data-export.ehr-backups',
          { text: 'exported 12 GB, sha256 9f2c recorded' },
          'jordan',
        );
        await finishTask(
          handle,
          'data-export.mail-archive',
          { text: 'exported 3 GB as PST', url: 'https://files.example/receipt/42' },
          'sam',
        );
        return { state: await handle.result(), tasks: await allTasks(handle), handle, sent };
      },
    );

    expect(state.status).toBe('completed');
    expect(state.steps).toEqual([
      expect.objectContaining({ key: 'data-export', status: 'completed', documentId: '01-data-export' }),
    ]);
    expect(tasks).toEqual([
      expect.objectContaining({ id: 'data-export.ehr-backups', status: 'completed', completedBy: 'jordan' }),
      expect.objectContaining({ id: 'data-export.mail-archive', status: 'completed', completedBy: 'sam' }),
    ]);
    expect(state.approvals).toEqual([]);
    expect(sent.map((mail) => mail.key)).toEqual([`${state.id}:data-export:tasks`]);
    expect(sent[0]!.to).toEqual(['ops@msp.example']);
    expect(await workflows.subjects()).not.toContain(`Approval needed: Data export manifest for ${name}`);

    const text = await workflows.documentText(handle, '01-data-export');
    expect(text).toContain('| `ehr-backups` | EHR database backups | client SFTP | SQL dump |');
    expect(text).toContain('| `mail-archive` | Mail archive | as agreed | as agreed |');
    expect(text).toMatch(
      /\| `data-export\.ehr-backups` \| `ehr-backups` \| completed \| .+ \| jordan \| exported 12 GB, sha256 9f2c recorded \|/,
    );
    expect(text).toMatch(
      /\| `data-export\.mail-archive` \| `mail-archive` \| completed \| .+ \| sam \| exported 3 GB as PST \(https:\/\/files\.example\/receipt\/42\) \|/,
    );
    expect(text).not.toContain('## Client approval');
  });

  it('with data-export in approvalSteps: the client confirms receipt once every data set is exported', async () => {
    const name = 'Export Dental Two';
    const request = await workflows.requestNow({
      client: { id: uniqueClientId('export'), name, timezone: 'UTC' },
      scope: { dataSets: [dataSets[0]] },
      approvalSteps: ['data-export'],
    });
    const { state, tasks, handle } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'data-export', request },
      async (handle, sent) => {
        await workflows.mailWithSubject(`Tasks to do: Data export manifest for ${name}`);
        // The receipt is asked for only after the export.
        const exporting = await handle.query(stateQuery);
        expect(exporting.approvals).toEqual([]);
        expect(sent.some((mail) => mail.key.startsWith('data-export-1:'))).toBe(false);
        await finishTask(handle, 'data-export.ehr-backups', { text: 'exported 12 GB' }, 'jordan');

        const asked = await workflows.mailWithSubject(`Approval needed: Data export manifest for ${name}`);
        expect(asked.text).toContain(
          'Confirm that you received every exported data set listed in the data export manifest, complete and readable.',
        );
        const awaiting = await handle.query(stateQuery);
        expect(awaiting.steps[0]!.status).toBe('awaiting-approval');
        const decided = await decideByMail(handle, asked, 'approve', 'all 12 GB received and readable');
        expect(decided).toEqual({ step: 'data-export', recorded: 'approve', approvalStatus: 'approved' });
        return { state: await handle.result(), tasks: await allTasks(handle), handle };
      },
    );

    expect(state.status).toBe('completed');
    expect(state.steps[0]).toMatchObject({ status: 'completed', documentId: '01-data-export' });
    expect(state.approvals).toEqual([
      expect.objectContaining({
        requestId: 'data-export-1',
        status: 'approved',
        decisions: [
          expect.objectContaining({
            approver: 'dana@acme.example',
            decision: 'approve',
            comment: 'all 12 GB received and readable',
          }),
        ],
      }),
    ]);
    const approvedAt = Date.parse(state.approvals[0]!.settledAt!);
    expect(approvedAt).toBeGreaterThanOrEqual(Date.parse(tasks[0]!.completedAt!));

    const text = await workflows.documentText(handle, '01-data-export');
    expect(text).toContain('## Client approval');
    expect(text).toContain('Request `data-export-1`: **approved** (policy: any)');
    expect(text).toMatch(
      /\| dana@acme\.example \| approve \| .+ \| all 12 GB received and readable \| 203\.0\.113\.7 \| vitest \|/,
    );
  });
});
