// The onboarding's restore-validation step alone: a test restore per backup job, whose task cannot
// be finished without the restore's times, integrity check and verifier; the report times each
// against the job's RTO and flags a restore over it or failing its integrity check.
import { describe, expect, it } from 'vitest';
import { completeTaskUpdate, stateQuery } from '../../../domain/definitions.js';
import { dateInWordsAndUtc } from '../../../domain/timeline.js';
import { onboardingRequest, uniqueClientId } from '../../factories.js';
import { useStepHarness, withStep } from '../../support/step-harness.js';
import { allTasks, decideByMail, finishTask } from '../../support/workflow-env.js';

const workflows = useStepHarness('restore-validation');

const backupJobs = [
  { id: 'srv-01-nightly', device: 'srv-01', rto: 'PT4H' },
  { id: 'srv-02-nightly', device: 'srv-02', rto: 'PT4H' },
  { id: 'nas-weekly', device: 'nas-01' },
];
const restore = (startedAt: string, endedAt: string, integrityCheck: 'passed' | 'failed' = 'passed') => ({
  startedAt,
  endedAt,
  integrityCheck,
  verifiedBy: 'Jordan',
});

describe('onboarding step restore-validation', () => {
  it('times each restore against its RTO and flags one over it or failing its integrity check', async () => {
    const name = 'Restore Dental';
    const request = onboardingRequest({
      client: { id: uniqueClientId('restore'), name, timezone: 'UTC' },
      scope: { backupJobs },
      approvalSteps: ['restore-validation'],
    });
    const { state, tasks, handle } = await withStep(
      workflows,
      { kind: 'onboarding', step: 'restore-validation', request },
      async (handle) => {
        const tasksMail = await workflows.mailWithSubject(
          `Tasks to do: Restore validation report for ${name}`,
        );
        expect(tasksMail.text).toContain(
          '`restore-validation.srv-01-nightly`: Restore from backup job srv-01-nightly (srv-01) into a scratch target, time it against its RTO of PT4H, check its integrity',
        );
        expect(tasksMail.text).toContain(
          '`restore-validation.nas-weekly`: Restore from backup job nas-weekly (nas-01) into a scratch target, time it, check its integrity',
        );

        // Text alone does not finish a restore task, nor a restore that ends before it starts.
        const update = (evidence: object) =>
          handle.executeUpdate(completeTaskUpdate, {
            args: [
              {
                actor: 'jordan',
                taskId: 'restore-validation.srv-01-nightly',
                evidence: { text: 'restored', ...evidence },
              },
            ],
          });
        await expect(update({})).rejects.toMatchObject({
          cause: {
            message: expect.stringContaining(
              'evidence.restore (startedAt, endedAt, integrityCheck, verifiedBy) is required',
            ),
          },
        });
        await expect(
          update({ restore: restore('2026-11-23T03:00:00Z', '2026-11-23T01:00:00Z') }),
        ).rejects.toMatchObject({
          cause: { message: expect.stringContaining('endedAt must not be before startedAt') },
        });
        const refused = await handle.query(stateQuery);
        expect(refused.tasks.every((task) => task.status === 'open')).toBe(true);

        await finishTask(
          handle,
          'restore-validation.srv-01-nightly',
          {
            text: 'VM restored to scratch host',
            restore: restore('2026-11-23T01:00:00Z', '2026-11-23T03:10:00Z'),
          },
          'jordan',
        );
        await finishTask(
          handle,
          'restore-validation.srv-02-nightly',
          {
            text: 'VM restored, slow storage',
            restore: restore('2026-11-23T01:00:00Z', '2026-11-23T06:00:00Z'),
          },
          'jordan',
        );
        await finishTask(
          handle,
          'restore-validation.nas-weekly',
          {
            text: 'share restored, checksums differ',
            restore: restore('2026-11-23T02:00:00Z', '2026-11-23T03:00:00Z', 'failed'),
          },
          'sam',
        );
        const asked = await workflows.mailWithSubject(
          `Approval needed: Restore validation report for ${name}`,
        );
        expect(asked.text).toContain('Review the restore tests of 3 backup job(s); 2 flagged.');
        await decideByMail(handle, asked, 'approve', 'remediation plan agreed for both');
        return { state: await handle.result(), tasks: await allTasks(handle), handle };
      },
    );

    expect(state.status).toBe('completed');
    expect(state.steps[0]).toMatchObject({
      key: 'restore-validation',
      status: 'completed',
      documentId: '01-restore-validation',
    });
    expect(tasks.map((task) => [task.id, task.status, task.completedBy, task.evidenceNeeded])).toEqual([
      ['restore-validation.srv-01-nightly', 'completed', 'jordan', 'restore'],
      ['restore-validation.srv-02-nightly', 'completed', 'jordan', 'restore'],
      ['restore-validation.nas-weekly', 'completed', 'sam', 'restore'],
    ]);

    const text = await workflows.documentText(handle, '01-restore-validation');
    const at = (iso: string) => dateInWordsAndUtc(iso, 'UTC');
    expect(text).toContain(
      `| \`srv-01-nightly\` | \`srv-01\` | ${at('2026-11-23T01:00:00Z')} | ${at('2026-11-23T03:10:00Z')} | 7800 | PT4H | yes | — | passed | Jordan | ok |`,
    );
    expect(text).toContain(
      `| \`srv-02-nightly\` | \`srv-02\` | ${at('2026-11-23T01:00:00Z')} | ${at('2026-11-23T06:00:00Z')} | 18000 | PT4H | **no** | — | passed | Jordan | **FLAGGED** |`,
    );
    expect(text).toContain(
      `| \`nas-weekly\` | \`nas-01\` | ${at('2026-11-23T02:00:00Z')} | ${at('2026-11-23T03:00:00Z')} | 3600 | — | no RTO | — | failed | Jordan | **FLAGGED** |`,
    );
    expect(text).toContain('**2 restore(s) flagged**: `srv-02-nightly`, `nas-weekly`.');
    expect(text).toMatch(
      /\| `restore-validation\.nas-weekly` \| `nas-weekly` \| completed \| .+ \| sam \| share restored, checksums differ \|/,
    );
    expect(text).toContain('Request `restore-validation-1`: **approved**');
  });
});
