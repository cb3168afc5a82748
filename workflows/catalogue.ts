// The steps of each runbook as the API describes them (the dry-run plan): read from the very step
// lists the workflows run, so the plan cannot drift from what runs.
import type { TransitionKind } from '../domain/schemas.js';
import { offboardingStepList } from './offboarding/steps/index.js';
import { onboardingStepList } from './onboarding/steps/index.js';

export interface StepOutline {
  key: string;
  title: string;
  /** When in the step the client is asked, for steps that can ask. */
  approvalWhen: string | null;
}

const outline = (step: { key: string; title: string; approval?: { when: string } }): StepOutline => ({
  key: step.key,
  title: step.title,
  approvalWhen: step.approval?.when ?? null,
});

export const stepCatalogue: Record<TransitionKind, StepOutline[]> = {
  offboarding: offboardingStepList.map(outline),
  onboarding: onboardingStepList.map(outline),
};
