// The workflows the worker registers, for the bundler.
export { offboardingWorkflow } from './offboarding/workflow.js';
export { onboardingWorkflow } from './onboarding/workflow.js';
