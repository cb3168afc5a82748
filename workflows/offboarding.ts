import { extendUpdate, type ExtendRequest, type RunbookInput } from '../domain/definitions.js';
import { offboardingSteps, type OffboardingRequest } from '../domain/schemas.js';
import {
  offboardingDates,
  remindersBefore,
  sumDurations,
  type OffboardingPeriods,
} from '../domain/timeline.js';
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

  return runbook.run(async () => {
    await runbook.step('termination-notice', titles['termination-notice'], async () => ({
      terms: request.terms,
      dates: dates(),
    }));
    await runbook.step('data-export', titles['data-export'], async () => ({
      dataSets: request.scope.dataSets,
    }));
    await runbook.step('cutover', titles.cutover, async () => {
      await runbook.waitUntil('cutover', () => dates().cutoverAt, {
        reminders: (deadline) => remindersBefore(dates().noticeReceivedAt, deadline),
      });
      return { cutoverAt: dates().cutoverAt };
    });
    await runbook.step('agent-removal', titles['agent-removal'], async () => ({
      devices: request.scope.devices,
    }));
    await runbook.step('credential-rotation', titles['credential-rotation'], async () => ({
      credentials: request.scope.credentials,
    }));
    await runbook.step('transition-assistance', titles['transition-assistance'], async () => {
      await runbook.waitUntil('assistance-end', () => dates().assistanceEndsAt);
      return { assistanceEndsAt: dates().assistanceEndsAt };
    });
    await runbook.step('retention-deletion', titles['retention-deletion'], async () => {
      await runbook.waitUntil('deletion', () => dates().deletionDueAt, {
        reminders: (deadline) => remindersBefore(dates().assistanceEndsAt, deadline),
      });
      await runbook.whileLegalHold();
      return { deletionDueAt: dates().deletionDueAt, deletionStartedAt: nowIso() };
    });
    await runbook.step('closure', titles.closure, async () => ({ steps: runbook.state.steps }));
  });
}
