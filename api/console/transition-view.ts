// What a transition's console page shows, from its state and documents: the timeline, the running
// timer, tasks, approvals, credentials, controls, documents and exports, with a form for each thing an
// operator can do now. An auditor's view is the same without any form.
import {
  sanitizationCategories,
  type ControlRecord,
  type TaskState,
  type TransitionState,
} from '../../domain/definitions.js';
import type { StepKey } from '../../domain/schemas.js';
import { realStatus, stepLabel, undecided, waitingOf } from '../waiting.js';
import { when } from './dates.js';
import { zoneLabel } from '../../domain/timeline.js';

/** A form that was sent and refused: shown again with what was typed (never a secret) and why. */
export interface FormFeedback {
  form: string;
  /** Why it was refused, in one line. */
  problem: string;
  values: Record<string, string>;
  errors: Record<string, string>;
}

export interface TransitionDocument {
  id: string;
  title: string;
  sha256: string;
  previousSha256: string | null;
  createdAt: string;
}

const stepStatusLabels: Record<string, string> = {
  'awaiting-approval': 'awaiting approval',
  'awaiting-task': 'awaiting tasks',
  'awaiting-credentials': 'awaiting credentials',
};

const controlLabels: Record<ControlRecord['action'], string> = {
  paused: 'Paused',
  resumed: 'Resumed',
  cancelled: 'Cancelled',
  extended: 'Extended',
  'legal-hold-placed': 'Legal hold placed',
  'legal-hold-released': 'Legal hold released',
  'approval-requested': 'Approval asked again',
  'approver-reassigned': 'Approver replaced',
  'reveal-reissued': 'Reveal link sent again',
  retried: 'Retried now',
};

const periodLabels = {
  noticePeriod: 'Notice period',
  transitionPeriod: 'Transition period',
  retentionPeriod: 'Retention period',
} as const;

const milestones: [keyof TransitionState['dates'], string][] = [
  ['startedAt', 'Started'],
  ['noticeReceivedAt', 'Notice received'],
  ['cutoverAt', 'Cutover'],
  ['assistanceEndsAt', 'End of transition assistance'],
  ['deletionDueAt', 'Deletion of retained data due'],
  ['finishedAt', 'Finished'],
];

/** The structured evidence a task's step records beyond the text. */
function evidenceFields(task: TaskState): 'restore' | 'validation' | 'sanitization' | null {
  if (task.evidenceNeeded) return task.evidenceNeeded;
  // The certificate of deletion names the method, tool and verification (NIST SP 800-88).
  return task.step === 'retention-deletion' ? 'sanitization' : null;
}

export function transitionView(
  state: TransitionState,
  documents: TransitionDocument[],
  options: { operator: boolean; feedback?: FormFeedback; now?: number; doneTasks?: TaskState[] },
) {
  const now = options.now ?? Date.now();
  const zone = state.timezone;
  const at = (iso: string | undefined) => (iso ? when(iso, zone, now) : null);
  const running = state.status === 'running';
  const canAct = options.operator && running;
  const feedback = (form: string) => (options.feedback?.form === form ? options.feedback : undefined);
  const waiting = waitingOf(state);
  const documentOf = new Map(documents.map((document) => [document.id, document]));
  const base = `/console/transitions/${state.id}`;
  const lastApprovalOf = (step: StepKey) => state.approvals.filter((a) => a.step === step).at(-1);
  /** An element id from a task or credential id (task ids hold a dot). */
  const idOf = (prefix: string, id: string) => `${prefix}-${id.replace(/[^a-z0-9-]/g, '-')}`;
  const status = realStatus(state.status, waiting);

  return {
    state,
    base,
    zone,
    operator: options.operator,
    status,
    statusClass: status.replace(/ /g, '-'),
    // The values a task form's selects offer, as the API's schema takes them.
    choices: { category: sanitizationCategories, result: ['passed', 'failed'] },
    restoreLabels: {
      started: `Restore started at (${zoneLabel(zone)})`,
      ended: `Restore ended at (${zoneLabel(zone)})`,
    },
    waiting,
    waitingSince: waiting ? at(waiting.since) : null,
    canAct,
    dates: milestones.flatMap(([name, label]) => {
      const iso = state.dates[name];
      return iso ? [{ label, at: at(iso) }] : [];
    }),
    timer: state.nextTimer ? { name: state.nextTimer.name, at: at(state.nextTimer.firesAt) } : null,
    steps: state.steps.map((step, index) => ({
      number: index + 1,
      label: stepLabel(step.key),
      key: step.key,
      status: step.status,
      statusLabel: stepStatusLabels[step.status] ?? step.status,
      // The state names the last step begun until the next one begins.
      current: state.currentStep === step.key && step.status !== 'completed',
      started: at(step.startedAt),
      finished: at(step.finishedAt),
      document: step.documentId ? documentOf.get(step.documentId) : undefined,
    })),
    openTasks: state.tasks
      .filter((task) => task.status === 'open')
      .map((task) => ({
        ...task,
        fieldId: idOf('task', task.id),
        stepLabel: stepLabel(task.step),
        created: at(task.createdAt),
        fields: evidenceFields(task),
        form: feedback(`task:${task.id}`),
      })),
    taskBatch: { form: feedback('task-batch') },
    // Said only once the run has continued as new.
    workflowRuns: (state.workflowRuns ?? 1) > 1 ? state.workflowRuns : null,
    // The state carries the first page of open tasks and counts the rest; older runs carry them all.
    openTaskCount: state.taskCounts?.open ?? state.tasks.filter((task) => task.status === 'open').length,
    doneTaskCount: state.taskCounts
      ? state.taskCounts.total - state.taskCounts.open
      : state.tasks.filter((task) => task.status !== 'open').length,
    doneTasks: (options.doneTasks ?? state.tasks.filter((task) => task.status !== 'open')).map((task) => ({
      ...task,
      stepLabel: stepLabel(task.step),
      completed: at(task.completedAt),
      restoreRan: task.evidence?.restore
        ? { started: at(task.evidence.restore.startedAt), ended: at(task.evidence.restore.endedAt) }
        : null,
    })),
    approvals: state.approvals.map((approval) => {
      const heldStep = state.steps.find((step) => step.key === approval.step)?.status === 'rejected';
      return {
        ...approval,
        stepLabel: stepLabel(approval.step),
        askId: `ask-${approval.step}`,
        requested: at(approval.requestedAt),
        deadlineAt: at(approval.deadline),
        escalated: at(approval.escalatedAt),
        settled: at(approval.settledAt),
        people: approval.approvers.map((email) => {
          const decision = approval.decisions.find((d) => d.approver === email);
          return { email, decision, decided: at(decision?.decidedAt) };
        }),
        waitingFor: approval.status === 'pending' ? undecided(approval) : [],
        // Asked again from the last request of a step a rejection holds.
        askAgain:
          canAct && heldStep && lastApprovalOf(approval.step) === approval
            ? { form: feedback(`request-approval:${approval.step}`) }
            : null,
      };
    }),
    pendingApprovals: state.approvals.filter((approval) => approval.status === 'pending').length,
    awaitingCredentials: state.credentials.filter((credential) => credential.status === 'awaiting').length,
    approverEmails: [...new Set(state.approvals.flatMap((approval) => approval.approvers))],
    credentials: state.credentials.map((credential) => ({
      ...credential,
      fieldId: idOf('credential', credential.id),
      reissueId: idOf('reissue', credential.id),
      secretLabel:
        credential.step === 'credential-rotation'
          ? `New secret for ${credential.account} on ${credential.system}`
          : `Secret for ${credential.account} on ${credential.system}`,
      stepLabel: stepLabel(credential.step),
      requested: at(credential.requestedAt),
      supplied: at(credential.suppliedAt),
      rotationDue: at(credential.rotationDueAt),
      revealed: at(credential.revealedAt),
      canSupply: canAct && credential.status === 'awaiting',
      canReissue: canAct && credential.step === 'credential-rotation' && !!credential.revealLinksSentAt,
      supplyForm: feedback(`credential:${credential.id}`),
      reissueForm: feedback(`reissue:${credential.id}`),
    })),
    controls: canAct
      ? {
          paused: state.paused,
          legalHold: state.legalHold,
          extend: state.kind === 'offboarding',
          periods: Object.entries(periodLabels).map(([value, label]) => ({
            value,
            label,
            selected: feedback('extend')?.values.period === value,
          })),
          pause: feedback('pause'),
          resume: feedback('resume'),
          cancel: feedback('cancel'),
          extendForm: feedback('extend'),
          legalHoldForm: feedback('legal-hold'),
          releaseForm: feedback('legal-hold/release'),
          retryForm: feedback('retry'),
          approversForm: feedback('approvers'),
        }
      : null,
    history: [...state.controls].reverse().map((control) => ({
      ...control,
      label: controlLabels[control.action],
      when: at(control.at),
      details: Object.entries(control.details ?? {}).map(([name, value]) => `${name}: ${value}`),
    })),
    documents: documents.map((document) => ({
      ...document,
      created: at(document.createdAt),
      html: `${base}/documents/${document.id}?format=html`,
      markdown: `${base}/documents/${document.id}?format=md`,
    })),
    exports: {
      html: `${base}/audit?format=html`,
      csv: `${base}/audit?format=csv`,
      pdf: `${base}/audit?format=pdf`,
      pack: `${base}/pack`,
    },
  };
}
