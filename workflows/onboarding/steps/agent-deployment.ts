// Step 3: the MSP's agents onto every device that has some planned, each checked in.
import { tasksThenApproval, type StepDefinition } from '../../runbook/step.js';
import type { OnboardingContext } from '../context.js';

export const agentDeployment: StepDefinition<'agent-deployment', OnboardingContext> = {
  key: 'agent-deployment',
  title: 'Agent deployment record',
  approval: {
    when: 'after the agents are deployed',
    summary: ({ request }) => `Confirm that the MSP agents run on ${request.scope.devices.length} device(s).`,
  },
  tasks: ({ request }) =>
    request.scope.devices
      .filter((device) => device.agents.length > 0)
      .map((device) => ({
        id: device.id,
        title: `Deploy ${device.agents.join(', ')} to ${device.hostname} and verify that each agent checks in`,
      })),
  run: tasksThenApproval(({ request }) => ({
    devices: request.scope.devices,
    undeployed: request.scope.devices.filter((device) => device.agents.length === 0),
  })),
};
