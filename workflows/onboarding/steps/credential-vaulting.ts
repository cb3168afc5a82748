// Step 2: every credential into the vault, through the client's one-time intake links or the
// operator API; the custody record lists references, never secrets.
import type { StepDefinition } from '../../runbook/step.js';
import type { OnboardingContext } from '../context.js';

export const credentialVaulting: StepDefinition<'credential-vaulting', OnboardingContext> = {
  key: 'credential-vaulting',
  title: 'Credential custody record',
  approval: {
    when: 'once every credential is in the vault',
    summary: ({ request }) =>
      `Confirm that the MSP now holds ${request.scope.credentials.length} credential(s) in its vault, under the custody record.`,
  },
  async run({ runbook, request }, { approve }) {
    await runbook.intake.collect(
      'credential-vaulting',
      request.scope.credentials,
      request.terms.rotationPeriod,
    );
    await approve();
    return { rotationPeriod: request.terms.rotationPeriod };
  },
};
