// What an onboarding step is given: the runbook and the onboarding request.
import type { RunbookInput } from '../../domain/definitions.js';
import { restoreResults, type RestoreResult } from '../../domain/restore.js';
import type { OnboardingRequest } from '../../domain/schemas.js';
import type { RunbookContext } from '../runbook/step.js';

export interface OnboardingContext extends RunbookContext {
  request: RunbookInput<OnboardingRequest>;
}

/** The restore results of the restore-validation tasks completed so far. */
export function restoresSoFar({ runbook, request }: OnboardingContext): RestoreResult[] {
  return restoreResults(
    request.scope.backupJobs,
    runbook.state.tasks.filter((task) => task.step === 'restore-validation'),
  );
}
