// The offboarding's data-export step alone: a task per data set, finished with evidence; the client
// confirms receipt only when the request lists data-export among its approvalSteps.
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import {
  decideBatchUpdate,
  decideUpdate,
  stateQuery,
  type DecideRequest,
  type DecisionOutcome,
} from '../../../domain/definitions.js';
import { uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';
import { allTasks, decideByMail, finishTask, knownTokenHash } from '../../support/workflow-env.js';

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

  it('decisions sent as one batch: each is refused or applied as it would be alone, in its order', async () => {
    const name = 'Export Dental Three';
    const request = await workflows.requestNow({
      client: { id: uniqueClientId('export'), name, timezone: 'UTC' },
      contacts: {
        approvers: [
          { name: 'Dana Reyes', email: 'dana@acme.example' },
          { name: 'Lee Park', email: 'lee@acme.example' },
          { name: 'Kim Ito', email: 'kim@acme.example' },
        ],
        operators: [{ name: 'MSP Ops', email: 'ops@msp.example' }],
      },
      terms: { approvalPolicy: 'all' },
      scope: { dataSets: [dataSets[0]] },
      approvalSteps: ['data-export'],
    });
    const press = (tokenHash: string, decision: string, comment: string) =>
      ({ tokenHash, decision, comment, ip: '203.0.113.7', userAgent: 'vitest' }) as DecideRequest;
    /** What `decide` alone answers: its result, or its validator's refusal as a batch item words it. */
    const alone = (handle: WorkflowHandle, request: DecideRequest): Promise<DecisionOutcome> =>
      handle.executeUpdate(decideUpdate, { args: [request] }).then(
        (result) => ({ ok: true, result }),
        (error: { cause: { type: string; message: string } }) => ({
          ok: false,
          failure: { type: error.cause.type, message: error.cause.message },
        }),
      );
    const { state, handle, outcomes, afterwards } = await withStep(
      workflows,
      { kind: 'offboarding', step: 'data-export', request },
      async (handle) => {
        await finishTask(handle, 'data-export.ehr-backups', { text: 'exported 12 GB' }, 'jordan');
        const subject = `Approval needed: Data export manifest for ${name}`;
        const linkOf = async (email: string) =>
          knownTokenHash(handle, await workflows.mailWithSubject(subject, email), 'approvals');
        const [dana, lee, kim] = [
          await linkOf('dana@acme.example'),
          await linkOf('lee@acme.example'),
          await linkOf('kim@acme.example'),
        ];
        const { outcomes } = await handle.executeUpdate(decideBatchUpdate, {
          args: [
            {
              items: [
                press(dana, 'approve', 'received'),
                press(dana, 'approve', 'pressed twice'),
                press('0'.repeat(64), 'approve', 'no such link'),
                press(lee, 'maybe', 'not a decision'),
                press(lee, 'approve', 'received too'),
                press(lee, 'reject', 'changed my mind'),
              ].map((item) => ({ ...item, audit: { v: 1, event: 'decision' } as const })),
            },
          ],
        });
        // The same presses alone, while Kim has yet to decide: the same refusals.
        const afterwards = [
          await alone(handle, press(dana, 'approve', 'pressed twice')),
          await alone(handle, press('0'.repeat(64), 'approve', 'no such link')),
          await alone(handle, press(kim, 'maybe', 'not a decision')),
          await alone(handle, press(lee, 'reject', 'changed my mind')),
        ];
        await alone(handle, press(kim, 'approve', 'received as well'));
        return { state: await handle.result(), handle, outcomes, afterwards };
      },
    );

    const decided = 'nothing to decide: this request is decided';
    expect(outcomes).toEqual([
      { ok: true, result: { step: 'data-export', recorded: 'approve', approvalStatus: 'pending' } },
      { ok: false, failure: { type: 'Conflict', message: decided } },
      { ok: false, failure: { type: 'NotFound', message: 'this link is not known' } },
      { ok: false, failure: { type: 'InvalidRequest', message: 'decision must be approve or reject' } },
      { ok: true, result: { step: 'data-export', recorded: 'approve', approvalStatus: 'pending' } },
      { ok: false, failure: { type: 'Conflict', message: decided } },
    ]);
    expect(afterwards).toEqual([outcomes[1], outcomes[2], outcomes[3], outcomes[5]]);
    expect(state.approvals[0]).toMatchObject({
      status: 'approved',
      decisions: [
        expect.objectContaining({ approver: 'dana@acme.example', decision: 'approve', comment: 'received' }),
        expect.objectContaining({
          approver: 'lee@acme.example',
          decision: 'approve',
          comment: 'received too',
        }),
        expect.objectContaining({ approver: 'kim@acme.example', decision: 'approve' }),
      ],
    });
    const text = await workflows.documentText(handle, '01-data-export');
    expect(text).toMatch(/\| dana@acme\.example \| approve \| .+ \| received \| 203\.0\.113\.7 \| vitest \|/);
    expect(text).toMatch(
      /\| lee@acme\.example \| approve \| .+ \| received too \| 203\.0\.113\.7 \| vitest \|/,
    );
    expect(text).not.toContain('pressed twice');
    expect(text).not.toContain('changed my mind');
  });
});
