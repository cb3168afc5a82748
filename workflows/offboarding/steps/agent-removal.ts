// Step 4: the client approves, then every MSP agent is removed from every device and the removal verified.
import { automationOf } from '../../runbook/automation.js';
import { approvalThenTasks, type StepDefinition } from '../../runbook/step.js';
import type { OffboardingContext } from '../context.js';

export const agentRemoval: StepDefinition<'agent-removal', OffboardingContext> = {
  key: 'agent-removal',
  title: 'Agent removal record',
  approval: {
    when: 'before any agent is removed',
    summary: ({ request }) =>
      `Approve the removal of every MSP agent (RMM, monitoring, backup, remote access) from ${request.scope.devices.length} device(s). After removal the MSP no longer monitors or backs up these devices.`,
  },
  tasks: ({ request }) =>
    request.scope.devices.map((device) => ({
      id: device.id,
      title: `Remove ${device.agents.join(', ') || 'all MSP agents'} from ${device.hostname} and verify removal`,
      // A device without listed agents has nothing a connector could check: a person looks.
      automation: device.agents.length
        ? automationOf(device, 'remove-agents', { agents: device.agents })
        : undefined,
    })),
  run: approvalThenTasks(({ request }) => ({ devices: request.scope.devices })),
};
