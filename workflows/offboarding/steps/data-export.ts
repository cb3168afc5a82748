// Step 2: export every data set in scope to the agreed destination, then the client confirms receipt.
import { tasksThenApproval, type StepDefinition } from '../../runbook/step.js';
import type { OffboardingContext } from '../context.js';

export const dataExport: StepDefinition<'data-export', OffboardingContext> = {
  key: 'data-export',
  title: 'Data export manifest',
  approval: {
    when: 'after every data set is exported',
    summary: () =>
      'Confirm that you received every exported data set listed in the data export manifest, complete and readable.',
  },
  tasks: ({ request }) =>
    request.scope.dataSets.map((set) => ({
      id: set.id,
      title: `Export ${set.description} to ${set.destination ?? 'the agreed destination'} in ${set.format ?? 'a standard format'}; record the size and SHA-256`,
    })),
  run: tasksThenApproval(({ request }) => ({ dataSets: request.scope.dataSets })),
};
