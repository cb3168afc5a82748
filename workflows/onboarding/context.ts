// What an onboarding step is given: the runbook and the onboarding request.
import type { RunbookInput } from '../../domain/definitions.js';
import type { OnboardingRequest } from '../../domain/schemas.js';
import type { RunbookContext } from '../runbook/step.js';

export interface OnboardingContext extends RunbookContext {
  request: RunbookInput<OnboardingRequest>;
}
