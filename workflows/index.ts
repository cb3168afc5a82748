export { offboardingWorkflow } from './offboarding.js';
