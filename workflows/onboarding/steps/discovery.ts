// Step 1: the inventory from the scope, with the gaps an onboarding must not miss.
import { discoveryReport } from '../../../domain/discovery.js';
import type { StepDefinition } from '../../runbook/step.js';
import type { OnboardingContext } from '../context.js';

export const discovery: StepDefinition<'discovery', OnboardingContext> = {
  key: 'discovery',
  title: 'Environment discovery report',
  approval: {
    when: 'once the inventory is drawn up',
    summary: ({ request }) => {
      const { devices, credentials, backupJobs } = request.scope;
      const report = discoveryReport(request.scope);
      return `Confirm the inventory: ${devices.length} device(s), ${credentials.length} account(s), ${backupJobs.length} backup job(s), ${report.gaps.length} gap(s) flagged.`;
    },
  },
  async run({ request }, { approve }) {
    const report = discoveryReport(request.scope);
    await approve();
    return { report };
  },
};
