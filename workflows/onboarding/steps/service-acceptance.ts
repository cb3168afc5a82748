// Step 5: the client accepts the onboarding; the handover summary lists what stays open.
import { discoveryReport, managedDevices } from '../../../domain/discovery.js';
import { escapeMarkdown } from '../../../domain/markdown.js';
import type { StepDefinition } from '../../runbook/step.js';
import { restoresSoFar, type OnboardingContext } from '../context.js';

export const serviceAcceptance: StepDefinition<'service-acceptance', OnboardingContext> = {
  key: 'service-acceptance',
  title: 'Onboarding handover summary',
  approval: {
    when: 'at the end: approving completes the onboarding',
    summary: (context) => {
      const { devices, credentials } = context.request.scope;
      const restores = restoresSoFar(context);
      const gaps = discoveryReport(context.request.scope).gaps;
      return `Accept the onboarding of ${escapeMarkdown(context.request.client.name)}: ${managedDevices(devices).length} device(s) under management, ${credentials.length} credential(s) vaulted, ${restores.length} restore(s) proven (${restores.filter((r) => r.flagged).length} flagged), ${gaps.length} open gap(s). Approving completes the onboarding.`;
    },
  },
  async run(context, { approve }) {
    const { runbook, request } = context;
    const report = discoveryReport(request.scope);
    const restores = restoresSoFar(context);
    await approve();
    return {
      gaps: report.gaps,
      restores,
      credentials: runbook.state.credentials,
      steps: runbook.state.steps,
    };
  },
};
