// The one place where the workflows, the API, the worker and the tests agree on names and shapes:
// signals, queries, updates, search attributes and the state of a transition (docs/design.md §9).
// No Node imports: bundled into the workflow sandbox.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OffboardingDates, OffboardingPeriod } from './timeline.js';
import type { Person, StepKey, TransitionKind } from './schemas.js';
import type { ApprovalItems } from './approval-items.js';
import type { AutomationEvidence } from './automation.js';
import type { LinkOpeningRecord } from './facts.js';

export const searchAttributes = {
  clientId: defineSearchAttributeKey('ClientId', SearchAttributeType.KEYWORD),
  transitionKind: defineSearchAttributeKey('TransitionKind', SearchAttributeType.KEYWORD),
  transitionStatus: defineSearchAttributeKey('TransitionStatus', SearchAttributeType.KEYWORD),
  currentStep: defineSearchAttributeKey('CurrentStep', SearchAttributeType.KEYWORD),
  /** Set while an activity keeps failing (its step, or `transition` outside any step). */
  stalled: defineSearchAttributeKey('Stalled', SearchAttributeType.KEYWORD),
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
  | 'awaiting-credentials'
  | 'stalled'
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
  /** For deletion tasks: the NIST SP 800-88 record of one medium's sanitization. */
  sanitization?: SanitizationEvidence;
  /** For restore tests: when the restore ran, whether its integrity check passed, who verified it. */
  restore?: RestoreEvidence;
  /** For the validation of a deletion by a second person: what they checked again, and what they found. */
  validation?: ValidationEvidence;
}

/** NIST SP 800-88 Rev. 1 sanitization categories, weakest to strongest. */
export const sanitizationCategories = ['Clear', 'Purge', 'Destroy'] as const;

/** What NIST SP 800-88 Rev. 1 (appendix G) asks a certificate of sanitization to record per medium. */
export interface SanitizationEvidence {
  mediaType: string;
  mediaId: string;
  category: (typeof sanitizationCategories)[number];
  technique: string;
  tool: string;
  toolVersion: string;
  verificationMethod: string;
  verificationResult: 'passed' | 'failed';
}

/** A second person's check of a sanitization (NIST SP 800-88 Rev. 1, appendix G: "validation"). */
export interface ValidationEvidence {
  verificationMethod: string;
  verificationResult: 'passed' | 'failed';
}

export interface RestoreEvidence {
  startedAt: string;
  endedAt: string;
  integrityCheck: 'passed' | 'failed';
  verifiedBy: string;
  /** What a connector restored: bytes and files (a person's record has none). */
  restoredBytes?: number;
  restoredFiles?: number;
}

export interface TaskState {
  id: string;
  step: StepKey;
  assetId: string;
  title: string;
  status: 'open' | 'completed' | 'cancelled';
  /** Evidence this task cannot be completed without, beyond the text. */
  evidenceNeeded?: 'restore' | 'validation';
  /** Who may not complete it (by key name, or as the same person): the one whose work it checks. */
  excludedCompleter?: { key: string; holder?: KeyHolder };
  createdAt: string;
  completedAt?: string;
  completedBy?: string;
  completedByHolder?: KeyHolder;
  evidence?: Evidence;
  /** The asset's automated connector, when it names one: done by it, or open for a person with its error. */
  automation?: TaskAutomation;
  /**
   * Set when the run continued as new after the task's step: the evidence here is shortened and the
   * whole of it is in this document of the step.
   */
  evidenceIn?: string;
}

/** What an automated connector did for a task's asset (docs/design.md §8). */
export interface TaskAutomation {
  connector: string;
  connection: string;
  /** `passed`: done and verified, the task completed by the connector; `failed`: the task waits for a person. */
  status: 'running' | 'passed' | 'failed';
  /** Rounds run: the first, and one per retry an operator asked for (each round retries inside itself). */
  rounds: number;
  error?: { type: string; message: string; at: string };
  evidence?: AutomationEvidence;
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

/** A vault reference: what may travel in workflows, documents and emails instead of a secret. */
export interface SecretReference {
  vaultId: string;
  version: number;
  fingerprint: string;
}

/** A credential the runbook collects into the vault (onboarding) or hands over (offboarding rotation). */
export interface CredentialState {
  id: string;
  step: StepKey;
  system: string;
  account: string;
  status: 'awaiting' | 'vaulted' | 'revealed';
  requestedAt: string;
  remindersSent: number;
  reference?: SecretReference;
  suppliedBy?: string;
  suppliedVia?: 'intake-link' | 'operator-api' | 'connector';
  suppliedAt?: string;
  rotationDueAt?: string;
  revealLinksSentAt?: string;
  revealedBy?: string;
  revealedAt?: string;
  /** Bumped by each reissue: reveal links of an earlier generation no longer work. */
  revealGeneration?: number;
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
    | 'approver-reassigned'
    | 'reveal-reissued'
    | 'retried';
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
  /** The first page of open tasks (`taskCounts` says how many there are; the rest by `tasksQuery`). */
  tasks: TaskState[];
  /** Every task of the run, by status (absent from states read from runs of earlier releases). */
  taskCounts?: TaskCounts;
  approvals: ApprovalState[];
  credentials: CredentialState[];
  nextTimer: { name: string; firesAt: string } | null;
  controls: ControlRecord[];
  outcome?: string;
  /** Present while a side effect keeps failing: the runbook retries by itself and goes on once it works. */
  stalled?: StallState;
  /** The worker builds: the one that started the run and the one running it now (absent on old runs). */
  build?: { startedOn?: string; current?: string };
  /** How many workflow runs the run has gone through: it continues as new when its history grows long. */
  workflowRuns?: number;
}

export interface StallState {
  step: StepKey | null;
  activity: string;
  lastError: string;
  since: string;
  /** Rounds of retries so far (each round is the activity's own bounded retries). */
  rounds: number;
  operatorsNotified: boolean;
}

/** The asset lists of a scope. */
export const scopeLists = ['devices', 'credentials', 'dataSets', 'backupJobs'] as const;
export type ScopeList = (typeof scopeLists)[number];

/**
 * A scope too large to travel in the workflow's input (thousands of assets): stored as JSON under its
 * SHA-256 before the run starts, and read back by the run a page at a time. The input then carries
 * empty lists and this reference.
 */
export interface ScopeRef {
  sha256: string;
  counts: Record<ScopeList, number>;
}

/** The most JSON characters of a scope sent inline; a larger one goes by reference (`ScopeRef`). */
export const inlineScopeCharacters = 64 * 1024;

/**
 * How much history a run gathers before it continues as new, at its next step boundary: Temporal
 * warns at 10,240 events or 10 MB and ends a run at 51,200 or 50 MB, and one step may add thousands.
 */
export interface HistoryBudget {
  events: number;
  bytes: number;
}

export const defaultHistoryBudget: HistoryBudget = { events: 5_000, bytes: 5 * 1024 * 1024 };

/** The links a run mailed and their openings, as a run that continues as new carries them. */
export interface LinksMemory {
  links: [tokenHash: string, link: IssuedLinkRecord][];
  openings: (LinkOpeningRecord & { tokenHash: string })[];
  /** Openings only counted (past the per-link limit), by token hash. */
  notListed: [tokenHash: string, count: number][];
}

/** What the workflow remembers of a link it mailed: never the token, only what it is for. */
export interface IssuedLinkRecord {
  purpose: LinkPurpose;
  /** The approval request id, or the credential id. */
  requestId: string;
  approver: string;
  /** For reveal links: the credential's reveal generation when the link was mailed. */
  generation?: number;
}

/**
 * Everything a runbook keeps in memory between steps, carried from a run to the run it continues as.
 * The tasks of finished steps travel without their long evidence, which their step's document holds.
 */
export interface RunbookCheckpoint {
  v: 1;
  state: TransitionState;
  approvers: Person[];
  links: LinksMemory;
  lastDocumentSha: string | null;
}

/** The memo a run that continued as new carries: the transition's run it is part of, for listings. */
export const transitionRunMemo = 'transitionRun';

export interface TransitionRunMemo {
  /** The first workflow run's id: the transition run's id everywhere. */
  runId: string;
  startedAt: string;
}

/** A run that continued as new: where it stands in the chain and where its runbook's memory is. */
export interface Continuation {
  /** 1 for the first run continued as new, 2 for the next, and so on. */
  part: number;
  /** The position in the runbook's step list of the step this run starts with. */
  nextStep: number;
  checkpoint: { inline: RunbookCheckpoint } | { stored: StoredCheckpoint };
}

/** A checkpoint too large for a workflow input: stored as JSON under its SHA-256, read back in slices. */
export interface StoredCheckpoint {
  sha256: string;
  characters: number;
}

/** What a runbook workflow receives: the validated request and the name of the key that started it. */
export type RunbookInput<Request> = Request & {
  startedBy: string;
  scopeRef?: ScopeRef;
  /** Absent: `defaultHistoryBudget`. */
  historyBudget?: HistoryBudget;
  /** Present on a run that continues an earlier one of the same transition. */
  continued?: Continuation;
};

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

/** Run a failed connector's automation of an open task again. */
export interface RetryTaskRequest extends Attributed {
  taskId: string;
}

export interface CompleteTaskRequest extends Attributed {
  taskId: string;
  evidence: Evidence;
  /** The person the caller's API key names, as described when they acted (absent for unnamed keys). */
  actorHolder?: KeyHolder;
}

/** Several tasks completed in one Update: all are applied, or none (the validator refuses the batch). */
export interface CompleteTasksRequest extends Attributed {
  items: { taskId: string; evidence: Evidence }[];
  actorHolder?: KeyHolder;
}

export interface CompleteTasksResult {
  completed: number;
  counts: TaskCounts;
}

export type TaskCounts = Record<TaskState['status'], number> & { total: number };

/** The most tasks one page, and one batch completion, holds. */
export const maxTaskPage = 1_000;

/** A page of a run's tasks in the order they were opened; `cursor` is where the previous page stopped. */
export interface TaskPageRequest {
  status?: TaskState['status'];
  step?: StepKey;
  /** Only these tasks (a bulk completion checks its items before sending them). */
  ids?: string[];
  cursor?: string;
  limit: number;
  /** The last matching tasks instead, newest first, in one page (no cursor): the console's latest finished. */
  latest?: boolean;
}

export interface TaskPage {
  tasks: TaskState[];
  nextCursor: string | null;
  counts: TaskCounts;
}

/** The person an API key belongs to, when `API_KEYS` names them: what a certificate signs with. */
export interface KeyHolder {
  name: string;
  title?: string;
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

/**
 * What a decision is for the audit trail, in the decision's own payload: the trail reads this marker,
 * never the Update's name, so each decision of a batch stands as its own entry. Versioned like
 * `AuditMarker`.
 */
export interface DecisionMarker {
  v: 1;
  event: 'decision';
}

/**
 * Decisions that came in together, applied one after another in their order, each as `decide` would
 * apply it alone: one Update instead of one each, because Temporal runs only a few Updates of a
 * workflow at a time (see `api/decision-batches.ts`).
 */
export interface DecideBatchRequest {
  items: (DecideRequest & { audit: DecisionMarker })[];
}

/** Per item of a batch, in its order: what `decide` answered, or why its validator would have refused it. */
export type DecisionOutcome =
  { ok: true; result: DecideResult } | { ok: false; failure: { type: string; message: string } };

export interface DecideBatchResult {
  outcomes: DecisionOutcome[];
}

/**
 * The most decisions one batch carries: 50 with the longest comments and user agents stay under
 * 512 kB, where Temporal starts warning about a payload's size (it refuses 2 MB).
 */
export const maxDecisionBatch = 50;

/**
 * What a transition keeps of the openings of its links, however often a link is opened: the first
 * `perLink` user agents listed, further ones counted. Each recorded opening is a Signal, an event in
 * the run's history for good, so an API process sends at most `signalsPerLink` of them per link: a
 * link reloaded in a loop or scanned all day cannot grow a months-long run's history to Temporal's
 * limit (which terminates the run).
 */
export const linkOpeningLimits = { perLink: 10, userAgentLength: 256, signalsPerLink: 100 } as const;

export interface LinkOpened {
  tokenHash: string;
  ip: string;
  userAgent: string;
}

/** Who a client page names: the transition, its client, who asked, and whom to contact. */
export interface TransitionContacts {
  transitionId: string;
  kind: TransitionKind;
  clientName: string;
  timezone: string;
  requestedBy: string;
  operators: Person[];
}

/** What an approval page shows about its link; null when the workflow knows no such link. */
export interface ApprovalLinkView extends TransitionContacts {
  step: StepKey;
  /** What the approval is about, as the page lists it (a bounded number of items). */
  items: ApprovalItems;
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

/** Which link a token is: approvals decide, intake links take a secret, reveal links show one. */
export type LinkPurpose = 'approval' | 'intake' | 'reveal';

/** What an intake or reveal page shows about its link; null when the workflow knows no such link. */
export interface CredentialLinkView extends TransitionContacts {
  purpose: 'intake' | 'reveal';
  approver: string;
  credential: Omit<CredentialState, 'reference'>;
  status: 'pending' | 'supplied' | 'revealed' | 'superseded' | 'reissued';
}

export interface SupplyCredentialRequest extends Attributed {
  credentialId: string;
  reference: SecretReference;
  via: 'intake-link' | 'operator-api';
  /** The intake link used, by its SHA-256; absent when an operator put it through the API. */
  tokenHash?: string;
}

export interface ReissueRevealRequest extends ControlRequest {
  credentialId: string;
}

export interface RevealCredentialRequest {
  tokenHash: string;
  ip: string;
  userAgent: string;
}

export const stateQuery = defineQuery<TransitionState>('state');
export const credentialLinkQuery = defineQuery<CredentialLinkView | null, [string]>('credentialLink');
export const supplyCredentialUpdate = defineUpdate<CredentialState, [SupplyCredentialRequest]>(
  'supplyCredential',
);
/** Spends a reveal link: answers the reference of the secret to show, exactly once. */
export const revealCredentialUpdate = defineUpdate<SecretReference, [RevealCredentialRequest]>(
  'revealCredential',
);
/** Whom a dead-end page (an expired or spent link) tells the client to contact. */
export const contactsQuery = defineQuery<TransitionContacts>('contacts');
/** A fresh one-time reveal link for a credential whose reveal was lost; earlier reveal links stop working. */
export const reissueRevealUpdate = defineUpdate<TransitionState, [ReissueRevealRequest]>('reissueReveal');
export const approvalLinkQuery = defineQuery<ApprovalLinkView | null, [string]>('approvalLink');

export const pauseUpdate = defineUpdate<TransitionState, [ControlRequest]>('pause');
export const resumeUpdate = defineUpdate<TransitionState, [ControlRequest]>('resume');
/** Retries a stalled side effect now, instead of at its next round. */
export const retryUpdate = defineUpdate<TransitionState, [ControlRequest]>('retry');
export const cancelUpdate = defineUpdate<TransitionState, [ControlRequest]>('cancel');
export const extendUpdate = defineUpdate<TransitionState, [ExtendRequest]>('extend');
export const legalHoldUpdate = defineUpdate<TransitionState, [ControlRequest]>('legalHold');
export const releaseLegalHoldUpdate = defineUpdate<TransitionState, [ControlRequest]>('releaseLegalHold');
export const completeTaskUpdate = defineUpdate<TaskState, [CompleteTaskRequest]>('completeTask');
export const retryTaskUpdate = defineUpdate<TaskState, [RetryTaskRequest]>('retryTask');
export const completeTasksUpdate = defineUpdate<CompleteTasksResult, [CompleteTasksRequest]>('completeTasks');
export const tasksQuery = defineQuery<TaskPage, [TaskPageRequest]>('tasks');
/**
 * One slice of a document's facts as JSON, for the activity writing it: facts too large for one
 * activity input (thousands of assets) travel this way, in slices each well under the payload limits.
 */
export const documentFactsQuery = defineQuery<string, [{ documentId: string; slice: number }]>(
  'documentFacts',
);
export const decideUpdate = defineUpdate<DecideResult, [DecideRequest]>('decide');
export const decideBatchUpdate = defineUpdate<DecideBatchResult, [DecideBatchRequest]>('decideBatch');
export const requestApprovalUpdate = defineUpdate<TransitionState, [RequestApprovalRequest]>(
  'requestApproval',
);
export const reassignApproverUpdate = defineUpdate<TransitionState, [ReassignApproverRequest]>(
  'reassignApprover',
);
export const linkOpenedSignal = defineSignal<[LinkOpened]>('linkOpened');
/**
 * Cancel as a Signal, for a run Temporal takes no more Updates from (it allows a few thousand per
 * run): the same cancel, but nothing answers whether it applied; the state shows it.
 */
export const cancelSignal = defineSignal<[ControlRequest]>('cancel');

/** Activity errors that retrying cannot fix (a broken template, a rejected recipient, invalid input). */
export const nonRetryableErrorTypes = ['TemplateError', 'RecipientRejected', 'InvalidActivityInput'] as const;

/** Failure types the API maps to HTTP answers (validators throw these as ApplicationFailure types). */
export const failureTypes = {
  conflict: 'Conflict',
  notFound: 'NotFound',
  invalid: 'InvalidRequest',
  gone: 'Gone',
  /** A run that continued as new has not yet taken back its memory: ask again in a moment. */
  resuming: 'Resuming',
} as const;

export const resumingMessage = 'the transition is continuing in a new workflow run; ask again in a moment';
