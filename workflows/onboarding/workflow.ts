// The onboarding runbook: from discovery to the client's acceptance of the service.
import type { RunbookInput } from '../../domain/definitions.js';
import type { OnboardingRequest } from '../../domain/schemas.js';
import { Runbook } from '../runbook/runbook.js';
import { runSteps, stepTitles } from '../runbook/step.js';
import { onboardingStepList } from './steps/index.js';

/** Onboarding runbook: from discovery to the client's acceptance of the service. */
export async function onboardingWorkflow(request: RunbookInput<OnboardingRequest>) {
  const runbook = new Runbook(request, stepTitles(onboardingStepList));
  const { startAt } = request.terms;
  return runbook.run(async () => {
    if (startAt && !request.continued) await runbook.timers.waitUntil('start', () => startAt);
    return runSteps(onboardingStepList, { runbook, request });
  });
}
