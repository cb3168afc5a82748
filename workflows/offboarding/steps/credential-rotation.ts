// Step 5: the client approves, each shared credential is rotated into the vault (by its connector, or
// by the operators) and the client reveals it once; then the MSP's own access is revoked, task by task.
import type { SecretReference } from '../../../domain/definitions.js';
import type { Scope } from '../../../domain/schemas.js';
import { automationOf } from '../../runbook/automation.js';
import type { StepDefinition } from '../../runbook/step.js';
import type { TaskSpec } from '../../runbook/tasks.js';
import type { OffboardingContext } from '../context.js';

type Credential = Scope['credentials'][number];

/** One task per credential: revoke the MSP's access (a rotation does, for a shared one), or disable its account. */
function taskOf(credential: Credential): TaskSpec {
  const { account, system } = credential;
  return credential.revoke
    ? {
        id: credential.id,
        title: `Disable the MSP's account ${account} on ${system} and verify that its login is refused`,
        automation: automationOf(credential, 'revoke-account', { account }),
      }
    : {
        id: credential.id,
        title: `Revoke the MSP's access to ${account} on ${system} (accounts, sessions, keys, old vault entries) and verify`,
        automation: automationOf(credential, 'rotate-password', { account }),
      };
}

export const credentialRotation: StepDefinition<'credential-rotation', OffboardingContext> = {
  key: 'credential-rotation',
  title: 'Credential rotation and access revocation record',
  approval: {
    when: 'before any credential is rotated',
    summary: ({ request }) =>
      `Approve the rotation of ${request.scope.credentials.length} shared credential(s) and the revocation of the MSP's access. The new credentials are handed to you; the MSP keeps none.`,
  },
  tasks: ({ request }) => request.scope.credentials.map(taskOf),
  async run({ runbook, request }, { approve, completeTasks }) {
    await approve();
    const { credentials } = request.scope;
    const shared = credentials.filter((credential) => !credential.revoke);
    // Connectors rotate first: what they vaulted is handed over as if an operator had put it.
    const rotations = await runbook.tasks.automate('credential-rotation', shared.map(taskOf));
    const rotated = new Map<string, { reference: SecretReference; connector: string }>();
    for (const { assetId, status, automation } of rotations) {
      const reference = automation?.evidence?.secret;
      if (reference && status === 'completed')
        rotated.set(assetId, { reference, connector: automation.connector });
    }
    runbook.tasks.automation.onSecret((task, reference) =>
      runbook.handover.supplyByConnector(task.assetId, reference, task.automation!.connector),
    );
    await runbook.handover.handOver('credential-rotation', shared, rotated);
    // Every shared credential is handed over now; a rotation run again would change it under the client.
    runbook.tasks.automation.endRetries(rotations);
    await completeTasks();
    return { rotated: credentials };
  },
};
