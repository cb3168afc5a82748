// Step 6: a durable timer until the end of the transition assistance.
import type { StepDefinition } from '../../runbook/step.js';
import type { OffboardingContext } from '../context.js';

export const transitionAssistance: StepDefinition<'transition-assistance', OffboardingContext> = {
  key: 'transition-assistance',
  title: 'Transition assistance closure',
  async run({ runbook, dates }) {
    await runbook.timers.waitUntil('assistance-end', () => dates().assistanceEndsAt);
    return { assistanceEndsAt: dates().assistanceEndsAt };
  },
};
