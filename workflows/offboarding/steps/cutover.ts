// Step 3: a durable timer until the cutover date, with reminders to everyone ahead of it.
import { remindersBefore } from '../../../domain/timeline.js';
import type { StepDefinition } from '../../runbook/step.js';
import type { OffboardingContext } from '../context.js';

export const cutover: StepDefinition<'cutover', OffboardingContext> = {
  key: 'cutover',
  title: 'Cutover readiness note',
  async run({ runbook, dates, remindAhead }) {
    await runbook.timers.waitUntil('cutover', () => dates().cutoverAt, {
      reminders: (deadline) => remindersBefore(dates().noticeReceivedAt, deadline),
      onReminder: remindAhead('cutover', 'Service cutover'),
    });
    return { cutoverAt: dates().cutoverAt };
  },
};
