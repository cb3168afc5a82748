// What a running transition waits on, read from its state. Temporal's status (and our search
// attribute) only says "running" until the end, which hides a transition held by a rejection or
// waiting months on a client who never answers; this says who has to act, and since when.
import type { ApprovalState, TransitionState, TransitionStatus } from '../domain/definitions.js';

export type WaitReason = 'stall' | 'pause' | 'rejection' | 'task' | 'credential' | 'approval' | 'legal-hold';

export interface Waiting {
  /** Who has to act: the client (an approver) or the MSP (an operator). */
  on: 'client' | 'msp';
  for: WaitReason;
  /** Since when it has been waiting for this. */
  since: string;
  /** One line a person reads, e.g. "approval of Agent removal by dana@acme.example". */
  detail: string;
}

/** "agent-removal" as a person reads it: "Agent removal". */
export function stepLabel(key: string): string {
  const words = key.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The approvers of a request who have not decided yet. */
export function undecided(approval: Pick<ApprovalState, 'approvers' | 'decisions'>): string[] {
  return approval.approvers.filter((email) => !approval.decisions.some((d) => d.approver === email));
}

const earliest = (dates: string[]) => [...dates].sort()[0]!;

/**
 * What holds or awaits the transition now, most pressing first: a stall or a hold needs an operator
 * whatever else waits; then the MSP's own work; then the client. Null when only a timer or the
 * runbook itself is at work, and once the transition has ended.
 */
export function waitingOf(state: TransitionState): Waiting | null {
  if (state.status !== 'running') return null;
  if (state.stalled) {
    const where = state.stalled.step ? stepLabel(state.stalled.step) : 'the transition';
    return {
      on: 'msp',
      for: 'stall',
      since: state.stalled.since,
      detail: `${where} is stalled: ${state.stalled.activity} keeps failing`,
    };
  }
  const lastControl = (action: string) => state.controls.filter((c) => c.action === action).at(-1);
  if (state.paused)
    return {
      on: 'msp',
      for: 'pause',
      since: lastControl('paused')?.at ?? state.dates.startedAt,
      detail: `paused by ${lastControl('paused')?.actor ?? 'an operator'}`,
    };
  const rejected = state.steps.find((step) => step.status === 'rejected');
  if (rejected) {
    const approval = state.approvals.filter((a) => a.step === rejected.key && a.status === 'rejected').at(-1);
    const by = approval?.decisions.filter((d) => d.decision === 'reject').map((d) => d.approver) ?? [];
    return {
      on: 'msp',
      for: 'rejection',
      since: approval?.settledAt ?? rejected.startedAt ?? state.dates.startedAt,
      detail: `${stepLabel(rejected.key)} rejected${by.length ? ` by ${by.join(', ')}` : ' (no decision before the deadline)'}`,
    };
  }
  const tasks = state.tasks.filter((task) => task.status === 'open');
  // The state lists the first open tasks and counts them all; steps run one at a time, so they share one.
  const open = state.taskCounts?.open ?? tasks.length;
  if (tasks.length)
    return {
      on: 'msp',
      for: 'task',
      since: earliest(tasks.map((task) => task.createdAt)),
      detail: `${open} open task${open === 1 ? '' : 's'} in ${stepLabel(tasks[0]!.step)}`,
    };
  const credentials = state.credentials.filter((credential) => credential.status === 'awaiting');
  if (credentials.length) {
    // A rotated credential is typed in by an operator; a client hands over theirs through an intake link.
    const rotation = credentials[0]!.step === 'credential-rotation';
    return {
      on: rotation ? 'msp' : 'client',
      for: 'credential',
      since: earliest(credentials.map((credential) => credential.requestedAt)),
      detail: `${credentials.length} credential${credentials.length === 1 ? '' : 's'} awaiting ${rotation ? 'a rotated secret' : 'the client'}`,
    };
  }
  const approvals = state.approvals.filter((approval) => approval.status === 'pending');
  if (approvals.length)
    return {
      on: 'client',
      for: 'approval',
      since: earliest(approvals.map((approval) => approval.requestedAt)),
      detail: approvals
        .map((approval) => `approval of ${stepLabel(approval.step)} by ${undecided(approval).join(', ')}`)
        .join('; '),
    };
  // Deletion is due and approved but does not start while the hold is on.
  if (state.legalHold && state.currentStep === 'retention-deletion' && !state.nextTimer)
    return {
      on: 'msp',
      for: 'legal-hold',
      since: lastControl('legal-hold-placed')?.at ?? state.dates.startedAt,
      detail: 'deletion held by a legal hold',
    };
  return null;
}

export const consoleStatuses = [
  'running',
  'waiting on client',
  'waiting on MSP',
  'held',
  'stalled',
  'completed',
  'cancelled',
  'failed',
] as const;
export type ConsoleStatus = (typeof consoleStatuses)[number];

/** The status a person needs: Temporal's, refined by what a running transition waits on. */
export function realStatus(status: TransitionStatus, waiting: Waiting | null): ConsoleStatus {
  if (status !== 'running' || !waiting) return status;
  if (waiting.for === 'stall') return 'stalled';
  if (waiting.for === 'pause' || waiting.for === 'rejection' || waiting.for === 'legal-hold') return 'held';
  return waiting.on === 'client' ? 'waiting on client' : 'waiting on MSP';
}
