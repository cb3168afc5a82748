// Step 8: the closure report, indexing every step and the credentials handed over.
import type { StepDefinition } from '../../runbook/step.js';
import type { OffboardingContext } from '../context.js';

export const closure: StepDefinition<'closure', OffboardingContext> = {
  key: 'closure',
  title: 'Closure report and index of all documents',
  run: async ({ runbook }) => ({ steps: runbook.state.steps, handedOver: runbook.state.credentials }),
};
