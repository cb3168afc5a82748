// The termination runbook: from the notice to the certificate of deletion and the closure pack.
import type { RunbookInput } from '../../domain/definitions.js';
import type { OffboardingRequest } from '../../domain/schemas.js';
import { Runbook } from '../runbook/runbook.js';
import { runSteps, stepTitles } from '../runbook/step.js';
import { offboardingContext } from './context.js';
import { offboardingStepList } from './steps/index.js';

/** Termination runbook: from the notice to the certificate of deletion and the closure pack. */
export async function offboardingWorkflow(request: RunbookInput<OffboardingRequest>) {
  const runbook = new Runbook(request, stepTitles(offboardingStepList));
  const context = offboardingContext(runbook, request);
  return runbook.run(() => runSteps(offboardingStepList, context));
}
