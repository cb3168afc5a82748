// Onboarding's credential intake: a one-time link per credential to each approver (or the operator
// API), reminders until every credential is in the vault, one escalation to the operators.
import { condition, patched } from '@temporalio/workflow';
import type { CredentialState } from '../../domain/definitions.js';
import { maxRemindersPerRequest, type StepKey } from '../../domain/schemas.js';
import { addDuration, durationMillis } from '../../domain/timeline.js';
import { listed, type CredentialAsset, type CredentialLinks } from './credentials.js';
import type { Notices } from './notices.js';
import { patches } from './patches.js';
import { nowIso, type RunbookState } from './state.js';

export class CredentialIntake {
  constructor(
    private readonly runbook: RunbookState,
    private readonly credentialLinks: CredentialLinks,
    private readonly notices: Notices,
  ) {}

  /**
   * Asks the approvers for each credential through one-time intake links (operators may put it
   * through the API instead) and waits, reminding every `reminderInterval`, until all are in.
   */
  async collect(key: StepKey, assets: CredentialAsset[], rotationPeriod: string): Promise<CredentialState[]> {
    const { state, request } = this.runbook;
    const credentials = this.credentialLinks.open(key, assets);
    if (credentials.length === 0) return credentials;
    this.runbook.setStepStatus(key, 'awaiting-credentials');
    for (const credential of credentials) await this.credentialLinks.send('intake', credential, 'request');
    await this.notices.toOperators(
      `credentials-requested:${key}`,
      `Credentials requested from ${state.clientName}`,
      [
        `The client's approvers received a one-time intake link for each of ${credentials.length} credential(s): ${credentials.map(listed).join(', ')}.`,
        `An operator can put one instead with POST /v1/transitions/${state.id}/credentials/:credentialId and \`{ "secret": "…" }\`.`,
      ],
    );
    const allIn = () => credentials.every((credential) => credential.status !== 'awaiting');
    let round = 0;
    const terms = request.terms;
    const interval = durationMillis(terms.reminderInterval);
    const escalateAt = Date.parse(addDuration(nowIso(), terms.approvalTimeout));
    let escalated = false;
    while (!(await condition(allIn, interval, { summary: `credential intake reminder: ${key}` }))) {
      round += 1;
      const missing = credentials.filter((candidate) => candidate.status === 'awaiting');
      for (const credential of missing) {
        credential.remindersSent += 1;
        await this.credentialLinks.send('intake', credential, `reminder-${round}`);
      }
      // Past approvalTimeout the operators hear of it once; the reminders to the client go on.
      if (!escalated && Date.now() >= escalateAt) {
        escalated = true;
        await this.notices.toOperators(
          `credentials-escalated:${key}`,
          `Escalation: credentials still missing from ${state.clientName}`,
          [
            `The client has not handed over ${missing.length} credential(s) within ${terms.approvalTimeout}: ${missing.map(listed).join(', ')}.`,
            `Reminders keep going out every ${terms.reminderInterval}, ${maxRemindersPerRequest} at most. An operator can put a credential with POST /v1/transitions/${state.id}/credentials/:credentialId.`,
          ],
        );
      }
      // The history Temporal bounds would otherwise grow by a reminder every interval, for as long as
      // the client takes: past the bound the runbook waits quietly (operators were told at escalation).
      if (round >= maxRemindersPerRequest && patched(patches.boundedIntakeReminders)) {
        await condition(allIn);
        break;
      }
    }
    for (const credential of credentials)
      credential.rotationDueAt = addDuration(credential.suppliedAt!, rotationPeriod);
    this.runbook.setStepStatus(key, 'running');
    return credentials;
  }
}
