import type { RunbookInput } from '../domain/definitions.js';
import { discoveryReport } from '../domain/discovery.js';
import { escapeMarkdown } from '../domain/markdown.js';
import { restoreResults } from '../domain/restore.js';
import { onboardingSteps, type OnboardingRequest, type OnboardingStep } from '../domain/schemas.js';
import { CredentialCustody } from './credentials.js';
import { Runbook } from './runbook.js';

const titles = {
  discovery: 'Environment discovery report',
  'credential-vaulting': 'Credential custody record',
  'agent-deployment': 'Agent deployment record',
  'restore-validation': 'Restore validation report',
  'service-acceptance': 'Onboarding handover summary',
} as const;

/** Onboarding runbook (DESIGN §3): from discovery to the client's acceptance of the service. */
export async function onboardingWorkflow(request: RunbookInput<OnboardingRequest>) {
  const runbook = new Runbook(request, onboardingSteps);
  const custody = new CredentialCustody(runbook);
  const needsApproval = (key: OnboardingStep) => (request.approvalSteps as string[]).includes(key);
  const approveIfAsked = async (key: OnboardingStep, summary: string) => {
    if (needsApproval(key)) await runbook.approval(key, summary);
  };
  const { devices, credentials, backupJobs } = request.scope;
  const startAt = request.terms.startAt;

  return runbook.run(async () => {
    if (startAt) await runbook.waitUntil('start', () => startAt);

    await runbook.step('discovery', titles.discovery, async () => {
      const report = discoveryReport(request.scope);
      await approveIfAsked(
        'discovery',
        `Confirm the inventory: ${devices.length} device(s), ${credentials.length} account(s), ${backupJobs.length} backup job(s), ${report.gaps.length} gap(s) flagged.`,
      );
      return { report };
    });

    await runbook.step('credential-vaulting', titles['credential-vaulting'], async () => {
      const custodyRecord = await custody.collect(
        'credential-vaulting',
        credentials,
        request.terms.rotationPeriod,
      );
      await approveIfAsked(
        'credential-vaulting',
        `Confirm that the MSP now holds ${custodyRecord.length} credential(s) in its vault, under the custody record.`,
      );
      return { rotationPeriod: request.terms.rotationPeriod };
    });

    await runbook.step('agent-deployment', titles['agent-deployment'], async () => {
      await runbook.tasks(
        'agent-deployment',
        devices
          .filter((device) => device.agents.length > 0)
          .map((device) => ({
            id: device.id,
            title: `Deploy ${device.agents.join(', ')} to ${device.hostname} and verify that each agent checks in`,
          })),
      );
      await approveIfAsked(
        'agent-deployment',
        `Confirm that the MSP agents run on ${devices.length} device(s).`,
      );
      return { devices, undeployed: devices.filter((device) => device.agents.length === 0) };
    });

    await runbook.step('restore-validation', titles['restore-validation'], async () => {
      const tasks = await runbook.tasks(
        'restore-validation',
        backupJobs.map((job) => ({
          id: job.id,
          title: `Restore from backup job ${job.id} (${job.device}) into a scratch target, time it${job.rto ? ` against its RTO of ${job.rto}` : ''}, check its integrity; record start, end, integrity check and who verified`,
          evidenceNeeded: 'restore' as const,
        })),
      );
      const results = restoreResults(backupJobs, tasks);
      await approveIfAsked(
        'restore-validation',
        `Review the restore tests of ${results.length} backup job(s); ${results.filter((r) => r.flagged).length} flagged.`,
      );
      return { results, flagged: results.filter((result) => result.flagged) };
    });

    await runbook.step('service-acceptance', titles['service-acceptance'], async () => {
      const report = discoveryReport(request.scope);
      const restores = restoreResults(
        backupJobs,
        runbook.state.tasks.filter((task) => task.step === 'restore-validation'),
      );
      await approveIfAsked(
        'service-acceptance',
        `Accept the onboarding of ${escapeMarkdown(request.client.name)}: ${devices.length} device(s) under management, ${credentials.length} credential(s) vaulted, ${restores.length} restore(s) proven (${restores.filter((r) => r.flagged).length} flagged), ${report.gaps.length} open gap(s). Approving completes the onboarding.`,
      );
      return {
        gaps: report.gaps,
        restores,
        credentials: runbook.state.credentials,
        steps: runbook.state.steps,
      };
    });
  });
}
