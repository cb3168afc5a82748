// The onboarding's steps, in the order they run (and the order of `onboardingSteps`).
import type { OnboardingStep } from '../../../domain/schemas.js';
import type { AnyStep } from '../../runbook/step.js';
import type { OnboardingContext } from '../context.js';
import { agentDeployment } from './agent-deployment.js';
import { credentialVaulting } from './credential-vaulting.js';
import { discovery } from './discovery.js';
import { restoreValidation } from './restore-validation.js';
import { serviceAcceptance } from './service-acceptance.js';

export const onboardingStepList = [
  discovery,
  credentialVaulting,
  agentDeployment,
  restoreValidation,
  serviceAcceptance,
] as const satisfies readonly (AnyStep<OnboardingContext> & { key: OnboardingStep })[];
