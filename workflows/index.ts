export { offboardingWorkflow } from './offboarding.js';
export { onboardingWorkflow } from './onboarding.js';
