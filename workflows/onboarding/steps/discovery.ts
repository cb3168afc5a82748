// Step 1: the inventory from the scope, with the gaps an onboarding must not miss; devices reached by
// a connector are asked for their facts (host name, OS, uptime, agents found), and a host whose name
// disagrees with the scope is flagged in the report.
import { discoveryReport } from '../../../domain/discovery.js';
import { automationOf } from '../../runbook/automation.js';
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
  // Only devices a connector reaches: the others are inventoried from the scope as they stand.
  tasks: ({ request }) =>
    request.scope.devices.flatMap((device) => {
      const automation = automationOf(device, 'discover', { hostname: device.hostname });
      return automation
        ? [
            {
              id: device.id,
              title: `Collect the facts of ${device.hostname} (host name, OS, uptime, agents) by hand`,
              automation,
            },
          ]
        : [];
    }),
  async run({ request }, { approve, completeTasks }) {
    const report = discoveryReport(request.scope);
    await completeTasks();
    await approve();
    return { report };
  },
};
