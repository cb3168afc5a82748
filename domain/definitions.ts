// The one place where the workflows, the API, the worker and the tests agree on names and shapes:
// signals, queries, updates, search attributes and the state of a transition (DESIGN §9).
// No Node imports: bundled into the workflow sandbox.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OffboardingDates, OffboardingPeriod } from './timeline.js';
import type { StepKey, TransitionKind } from './schemas.js';

export const searchAttributes = {
  clientId: defineSearchAttributeKey('ClientId', SearchAttributeType.KEYWORD),
  transitionKind: defineSearchAttributeKey('TransitionKind', SearchAttributeType.KEYWORD),
  transitionStatus: defineSearchAttributeKey('TransitionStatus', SearchAttributeType.KEYWORD),
  currentStep: defineSearchAttributeKey('CurrentStep', SearchAttributeType.KEYWORD),
} as const;

/** For `temporal server start-dev --search-attribute` and `temporal operator search-attribute create`. */
export const searchAttributeRegistrations = Object.values(searchAttributes).map((key) => ({
  name: key.name,
  type: 'Keyword' as const,
}));

export type TransitionStatus = 'running' | 'completed' | 'cancelled' | 'failed';
export type StepStatus =
  | 'pending'
  | 'running'
  | 'awaiting-approval'
  | 'awaiting-task'
  | 'completed'
  | 'rejected'
  | 'failed'
  | 'skipped';

export interface StepState {
  key: StepKey;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  documentId?: string;
}

export interface Evidence {
  text: string;
  url?: string;
  /** For sanitization tasks (NIST SP 800-88): how, with what, and how it was verified. */
  method?: string;
  tool?: string;
  verification?: string;
}

export interface TaskState {
  id: string;
  step: StepKey;
  assetId: string;
  title: string;
  status: 'open' | 'completed' | 'cancelled';
  createdAt: string;
  completedAt?: string;
  completedBy?: string;
  evidence?: Evidence;
}

export type Decision = 'approve' | 'reject';

export interface ApprovalDecision {
  approver: string;
  decision: Decision;
  comment: string;
  decidedAt: string;
  ip: string;
  userAgent: string;
}

export interface ApprovalState {
  requestId: string;
  title: string;
  step: StepKey;
  status: 'pending' | 'approved' | 'rejected' | 'superseded';
  policy: 'any' | 'all';
  requestedAt: string;
  deadline: string;
  escalatedAt?: string;
  remindersSent: number;
  approvers: string[];
  decisions: ApprovalDecision[];
  settledAt?: string;
}

/** A control or other operator action, recorded with who did it and why. */
export interface ControlRecord {
  action:
    | 'paused'
    | 'resumed'
    | 'cancelled'
    | 'extended'
    | 'legal-hold-placed'
    | 'legal-hold-released'
    | 'approval-requested'
    | 'approver-reassigned';
  actor: string;
  reason: string;
  at: string;
  details?: Record<string, string>;
}

export interface TransitionState {
  id: string;
  kind: TransitionKind;
  clientId: string;
  clientName: string;
  timezone: string;
  status: TransitionStatus;
  startedBy: string;
  currentStep: StepKey | null;
  dates: Partial<OffboardingDates> & { startedAt: string; finishedAt?: string };
  paused: boolean;
  legalHold: boolean;
  steps: StepState[];
  tasks: TaskState[];
  approvals: ApprovalState[];
  nextTimer: { name: string; firesAt: string } | null;
  controls: ControlRecord[];
  outcome?: string;
}

/** What a runbook workflow receives: the validated request and the name of the key that started it. */
export type RunbookInput<Request> = Request & { startedBy: string };

/** Who is acting: the API key's name for operators (never the key itself). */
export interface Attributed {
  actor: string;
}

export interface ControlRequest extends Attributed {
  reason: string;
}

export interface ExtendRequest extends ControlRequest {
  period: OffboardingPeriod;
  by: string;
}

export interface CompleteTaskRequest extends Attributed {
  taskId: string;
  evidence: Evidence;
}

export interface DecideRequest {
  /** SHA-256 of the link token; the token itself never reaches the workflow. */
  tokenHash: string;
  decision: Decision;
  comment: string;
  ip: string;
  userAgent: string;
}

export interface DecideResult {
  step: StepKey;
  recorded: Decision;
  approvalStatus: ApprovalState['status'];
}

export interface LinkOpened {
  tokenHash: string;
  ip: string;
  userAgent: string;
}

/** What an approval page shows about its link; null when the workflow knows no such link. */
export interface ApprovalLinkView {
  transitionId: string;
  clientName: string;
  step: StepKey;
  approver: string;
  status: 'pending' | 'decided' | 'settled' | 'superseded' | 'expired';
  approval: Omit<ApprovalState, 'decisions'> & { decisions: Omit<ApprovalDecision, 'ip' | 'userAgent'>[] };
  ownDecision?: Omit<ApprovalDecision, 'ip' | 'userAgent'>;
}

export interface RequestApprovalRequest extends ControlRequest {
  step: StepKey;
}

export interface ReassignApproverRequest extends ControlRequest {
  from: string;
  to: { name: string; email: string };
}

export const stateQuery = defineQuery<TransitionState>('state');
export const approvalLinkQuery = defineQuery<ApprovalLinkView | null, [string]>('approvalLink');

export const pauseUpdate = defineUpdate<TransitionState, [ControlRequest]>('pause');
export const resumeUpdate = defineUpdate<TransitionState, [ControlRequest]>('resume');
export const cancelUpdate = defineUpdate<TransitionState, [ControlRequest]>('cancel');
export const extendUpdate = defineUpdate<TransitionState, [ExtendRequest]>('extend');
export const legalHoldUpdate = defineUpdate<TransitionState, [ControlRequest]>('legalHold');
export const releaseLegalHoldUpdate = defineUpdate<TransitionState, [ControlRequest]>('releaseLegalHold');
export const completeTaskUpdate = defineUpdate<TaskState, [CompleteTaskRequest]>('completeTask');
export const decideUpdate = defineUpdate<DecideResult, [DecideRequest]>('decide');
export const requestApprovalUpdate = defineUpdate<TransitionState, [RequestApprovalRequest]>(
  'requestApproval',
);
export const reassignApproverUpdate = defineUpdate<TransitionState, [ReassignApproverRequest]>(
  'reassignApprover',
);
export const linkOpenedSignal = defineSignal<[LinkOpened]>('linkOpened');

/** Failure types the API maps to HTTP answers (validators throw these as ApplicationFailure types). */
export const failureTypes = {
  conflict: 'Conflict',
  notFound: 'NotFound',
  invalid: 'InvalidRequest',
  gone: 'Gone',
} as const;
