// Step 5: the client approves, the operators rotate each shared credential into the vault and the
// client reveals it once; then the MSP's own access is revoked, task by task.
import type { StepDefinition } from '../../runbook/step.js';
import type { OffboardingContext } from '../context.js';

export const credentialRotation: StepDefinition<'credential-rotation', OffboardingContext> = {
  key: 'credential-rotation',
  title: 'Credential rotation and access revocation record',
  approval: {
    when: 'before any credential is rotated',
    summary: ({ request }) =>
      `Approve the rotation of ${request.scope.credentials.length} shared credential(s) and the revocation of the MSP's access. The new credentials are handed to you; the MSP keeps none.`,
  },
  tasks: ({ request }) =>
    request.scope.credentials.map((credential) => ({
      id: credential.id,
      title: `Revoke the MSP's access to ${credential.account} on ${credential.system} (accounts, sessions, keys, old vault entries) and verify`,
    })),
  async run({ runbook, request }, { approve, completeTasks }) {
    await approve();
    await runbook.handover.handOver('credential-rotation', request.scope.credentials);
    await completeTasks();
    return { rotated: request.scope.credentials };
  },
};
