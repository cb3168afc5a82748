// Step 1: record the notice, compute the dates once, and send everyone the timeline.
import { dateInWordsAndUtc } from '../../../domain/timeline.js';
import type { StepDefinition } from '../../runbook/step.js';
import type { OffboardingContext } from '../context.js';

export const terminationNotice: StepDefinition<'termination-notice', OffboardingContext> = {
  key: 'termination-notice',
  title: 'Termination notice acknowledgement and timeline',
  async run({ runbook, request, dates, everyone }) {
    const timeline = dates();
    const local = (iso: string) => dateInWordsAndUtc(iso, request.client.timezone);
    await runbook.notices.send(
      'timeline',
      everyone(),
      `Termination timeline for ${request.client.name}`,
      [
        `We acknowledge the termination notice received on ${local(timeline.noticeReceivedAt)}. These are the dates of the transition:`,
      ],
      [
        { label: 'Cutover', value: local(timeline.cutoverAt) },
        { label: 'End of transition assistance', value: local(timeline.assistanceEndsAt) },
        { label: 'Deletion of retained data', value: local(timeline.deletionDueAt) },
      ],
    );
    return { terms: request.terms, dates: timeline, approvalSteps: request.approvalSteps };
  },
};
