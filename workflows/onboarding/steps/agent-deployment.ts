// Step 3: the MSP's agents onto every device that has some planned, each checked in.
import { automationOf } from '../../runbook/automation.js';
import { tasksThenApproval, type StepDefinition } from '../../runbook/step.js';
import { managedDevices as managed } from '../../../domain/discovery.js';
import type { OnboardingContext } from '../context.js';

export const agentDeployment: StepDefinition<'agent-deployment', OnboardingContext> = {
  key: 'agent-deployment',
  title: 'Agent deployment record',
  approval: {
    when: 'after the agents are deployed',
    summary: ({ request }) =>
      `Confirm that the MSP agents run on ${managed(request.scope.devices).length} device(s).`,
  },
  tasks: ({ request }) =>
    managed(request.scope.devices).map((device) => ({
      id: device.id,
      title: `Deploy ${device.agents.join(', ')} to ${device.hostname} and verify that each agent checks in`,
      automation: automationOf(device, 'deploy-agents', { agents: device.agents }),
    })),
  run: tasksThenApproval(({ request }) => ({
    devices: request.scope.devices,
    undeployed: request.scope.devices.filter((device) => device.agents.length === 0),
  })),
};
