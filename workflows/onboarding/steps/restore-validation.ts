// Step 4: a test restore of every backup job, timed against its RTO and checked for integrity.
import { restoreResults } from '../../../domain/restore.js';
import { automationOf } from '../../runbook/automation.js';
import type { StepDefinition } from '../../runbook/step.js';
import { restoresSoFar, type OnboardingContext } from '../context.js';

export const restoreValidation: StepDefinition<'restore-validation', OnboardingContext> = {
  key: 'restore-validation',
  title: 'Restore validation report',
  approval: {
    when: 'after every restore is tested',
    summary: (context) => {
      const results = restoresSoFar(context);
      return `Review the restore tests of ${results.length} backup job(s); ${results.filter((r) => r.flagged).length} flagged.`;
    },
  },
  tasks: ({ request }) =>
    request.scope.backupJobs.map((job) => ({
      id: job.id,
      title: `Restore from backup job ${job.id} (${job.device}) into a scratch target, time it${job.rto ? ` against its RTO of ${job.rto}` : ''}, check its integrity; record start, end, integrity check and who verified`,
      evidenceNeeded: 'restore' as const,
      automation: automationOf(job, 'validate-restore', {
        ...(job.paths ? { source: { paths: job.paths } } : {}),
      }),
    })),
  async run(context, { approve, completeTasks }) {
    const tasks = await completeTasks();
    const results = restoreResults(context.request.scope.backupJobs, tasks);
    await approve();
    return { results, flagged: results.filter((result) => result.flagged) };
  },
};
