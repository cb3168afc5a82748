import { extendUpdate, type ExtendRequest, type RunbookInput } from '../domain/definitions.js';
import { escapeMarkdown } from '../domain/markdown.js';
import { offboardingSteps, type OffboardingRequest, type OffboardingStep } from '../domain/schemas.js';
import {
  humanDate,
  offboardingDates,
  remindersBefore,
  sumDurations,
  type OffboardingPeriods,
} from '../domain/timeline.js';
import { CredentialCustody } from './credentials.js';
import { Runbook, invalid, nowIso } from './runbook.js';

const titles = {
  'termination-notice': 'Termination notice acknowledgement and timeline',
  'data-export': 'Data export manifest',
  cutover: 'Cutover readiness note',
  'agent-removal': 'Agent removal record',
  'credential-rotation': 'Credential rotation and access revocation record',
  'transition-assistance': 'Transition assistance closure',
  'retention-deletion': 'Certificate of data deletion',
  closure: 'Closure report and index of all documents',
} as const;

/** Termination runbook (DESIGN §3): from the notice to the certificate of deletion and the closure pack. */
export async function offboardingWorkflow(request: RunbookInput<OffboardingRequest>) {
  const runbook = new Runbook(request, offboardingSteps);
  const custody = new CredentialCustody(runbook);
  const periods: OffboardingPeriods = { ...request.terms };
  const dates = () => offboardingDates(periods);
  const syncDates = () => Object.assign(runbook.state.dates, dates());
  syncDates();

  runbook.registerControl<ExtendRequest>(
    extendUpdate,
    (extension) => {
      if (!['noticePeriod', 'transitionPeriod', 'retentionPeriod'].includes(extension.period)) {
        throw invalid(`unknown period ${extension.period}`);
      }
    },
    (extension) => {
      const before = periods[extension.period];
      periods[extension.period] = sumDurations(before, extension.by);
      syncDates();
      runbook.recordControl('extended', extension, {
        period: extension.period,
        by: extension.by,
        from: before,
        to: periods[extension.period],
      });
    },
  );

  const needsApproval = (key: OffboardingStep) => (request.approvalSteps as string[]).includes(key);
  const everyone = () => [...runbook.approvers, ...request.contacts.operators].map((person) => person.email);
  const remindAhead = (name: string, what: string) => async (at: string, deadline: string) =>
    runbook.notify(
      `reminder:${name}:${at}`,
      everyone(),
      `Reminder: ${what} for ${request.client.name} on ${humanDate(deadline, request.client.timezone)}`,
      [
        `${what} for ${escapeMarkdown(request.client.name)} is due on ${humanDate(deadline, request.client.timezone)} (${deadline} UTC).`,
      ],
    );
  const { dataSets, devices, credentials } = request.scope;

  return runbook.run(async () => {
    await runbook.step('termination-notice', titles['termination-notice'], async () => {
      const timeline = dates();
      await runbook.notify(
        'timeline',
        everyone(),
        `Termination timeline for ${request.client.name}`,
        [
          `We acknowledge the termination notice received on ${humanDate(timeline.noticeReceivedAt, request.client.timezone)}. These are the dates of the transition:`,
        ],
        [
          { label: 'Cutover', value: humanDate(timeline.cutoverAt, request.client.timezone) },
          {
            label: 'End of transition assistance',
            value: humanDate(timeline.assistanceEndsAt, request.client.timezone),
          },
          {
            label: 'Deletion of retained data',
            value: humanDate(timeline.deletionDueAt, request.client.timezone),
          },
        ],
      );
      return { terms: request.terms, dates: timeline, approvalSteps: request.approvalSteps };
    });

    await runbook.step('data-export', titles['data-export'], async () => {
      await runbook.tasks(
        'data-export',
        dataSets.map((set) => ({
          id: set.id,
          title: `Export ${set.description} to ${set.destination ?? 'the agreed destination'} in ${set.format ?? 'a standard format'}; record the size and SHA-256`,
        })),
      );
      if (needsApproval('data-export')) {
        await runbook.approval(
          'data-export',
          'Confirm that you received every exported data set listed in the data export manifest, complete and readable.',
        );
      }
      return { dataSets };
    });

    await runbook.step('cutover', titles.cutover, async () => {
      await runbook.waitUntil('cutover', () => dates().cutoverAt, {
        reminders: (deadline) => remindersBefore(dates().noticeReceivedAt, deadline),
        onReminder: remindAhead('cutover', 'Service cutover'),
      });
      return { cutoverAt: dates().cutoverAt };
    });

    await runbook.step('agent-removal', titles['agent-removal'], async () => {
      if (needsApproval('agent-removal')) {
        await runbook.approval(
          'agent-removal',
          `Approve the removal of every MSP agent (RMM, monitoring, backup, remote access) from ${devices.length} device(s). After removal the MSP no longer monitors or backs up these devices.`,
        );
      }
      await runbook.tasks(
        'agent-removal',
        devices.map((device) => ({
          id: device.id,
          title: `Remove ${device.agents.join(', ') || 'all MSP agents'} from ${device.hostname} and verify removal`,
        })),
      );
      return { devices };
    });

    await runbook.step('credential-rotation', titles['credential-rotation'], async () => {
      if (needsApproval('credential-rotation')) {
        await runbook.approval(
          'credential-rotation',
          `Approve the rotation of ${credentials.length} shared credential(s) and the revocation of the MSP's access. The new credentials are handed to you; the MSP keeps none.`,
        );
      }
      await custody.handOver('credential-rotation', credentials);
      await runbook.tasks(
        'credential-rotation',
        credentials.map((credential) => ({
          id: credential.id,
          title: `Revoke the MSP's access to ${credential.account} on ${credential.system} (accounts, sessions, keys, old vault entries) and verify`,
        })),
      );
      return { rotated: credentials };
    });

    await runbook.step('transition-assistance', titles['transition-assistance'], async () => {
      await runbook.waitUntil('assistance-end', () => dates().assistanceEndsAt);
      return { assistanceEndsAt: dates().assistanceEndsAt };
    });

    await runbook.step('retention-deletion', titles['retention-deletion'], async () => {
      await runbook.waitUntil('deletion', () => dates().deletionDueAt, {
        reminders: (deadline) => remindersBefore(dates().assistanceEndsAt, deadline),
        onReminder: remindAhead('deletion', 'Deletion of retained data'),
      });
      if (needsApproval('retention-deletion')) {
        await runbook.approval(
          'retention-deletion',
          `Approve the permanent deletion of every retained copy of your data (${escapeMarkdown(dataSets.map((set) => set.description).join('; ') || 'no data set listed')}). This cannot be undone.`,
        );
      }
      // Deletion never starts while a legal hold is on, even once approved.
      await runbook.whileLegalHold();
      const deletionStartedAt = nowIso();
      const tasks = await runbook.tasks(
        'retention-deletion',
        dataSets.map((set) => ({
          id: set.id,
          title: `Delete every retained copy of ${set.description} following NIST SP 800-88; record method, tool and verification`,
        })),
      );
      const approval = runbook.state.approvals
        .filter((a) => a.step === 'retention-deletion' && a.status === 'approved')
        .at(-1);
      const pick = (field: 'method' | 'tool' | 'verification') =>
        [...new Set(tasks.map((task) => task.evidence?.[field]).filter(Boolean))].join('; ') || undefined;
      return {
        deletionDueAt: dates().deletionDueAt,
        deletionStartedAt,
        certificate: {
          what: dataSets.map((set) => `${set.description} (${set.id})`).join('; ') || 'no data set in scope',
          method: pick('method'),
          tool: pick('tool'),
          verification: pick('verification'),
          performedBy: [...new Set(tasks.map((task) => task.completedBy))].join(', ') || undefined,
          validatedBy: approval?.decisions
            .filter((d) => d.decision === 'approve')
            .map((d) => d.approver)
            .join(', '),
          date:
            tasks
              .map((task) => task.completedAt!)
              .sort()
              .at(-1) ?? deletionStartedAt,
        },
      };
    });

    await runbook.step('closure', titles.closure, async () => ({
      steps: runbook.state.steps,
      handedOver: runbook.state.credentials,
    }));
  });
}
