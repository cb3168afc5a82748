// The inputs and outputs of the runbook's activities: what workflows send, what activities return,
// and what the audit trail reads back from the history. No Node imports: the workflows bundle it.
import type { LinkPurpose, ScopeList, StepState } from './definitions.js';
import type { DocumentFacts } from './facts.js';
import type { Person, TransitionKind } from './schemas.js';

/** The activity header naming the first run of the workflow run's chain (continue-as-new keeps it). */
export const chainHeader = 'msp-runbook-chain';

/** The archive file holding a run's history (protobuf `temporal.api.history.v1.History`), next to its documents. */
export const historyArchiveName = 'history.binpb';

/**
 * What an activity call is for the audit trail, in the call's own input: the trail reads this marker,
 * never the activity's name or the shape of its keys, so a refactor that renames them leaves every
 * archive readable. Versioned: a new meaning is a new `v`, and the trail keeps reading the old ones.
 */
export type AuditMarker =
  | { v: 1; event: 'document'; outcome: 'completed' | 'failed' | 'cancelled' | 'rejected' }
  | { v: 1; event: 'links' }
  | { v: 1; event: 'tasks-created' }
  | { v: 1; event: 'escalation' }
  | { v: 1; event: 'notice' }
  | { v: 1; event: 'archive' }
  | { v: 1; event: 'automation' }
  | { v: 1; event: 'checkpoint' };

export interface ArchiveHistoryInput {
  transitionId: string;
  audit?: AuditMarker;
  /** A run that continued an earlier one: its position in the chain (absent, or 0, for the first run). */
  part?: number;
}

/** The archive file of the history of a run's `part`-th continuation, next to the first run's. */
export function historyArchiveNameOf(part: number | undefined): string {
  return part ? `history-${part}.binpb` : historyArchiveName;
}

/** The checkpoint of a run continuing as new, read by the activity from the run in `slices` slices. */
export interface StoreCheckpointInput {
  transitionId: string;
  /** The id the run answers the slices under (`documentFactsQuery`). */
  stagedAs: string;
  slices: number;
  audit: AuditMarker;
}

/** A slice of a stored checkpoint, from `offset`, at most `checkpointSliceCharacters` long. */
export interface CheckpointSliceInput {
  sha256: string;
  offset: number;
  audit: AuditMarker;
}

export const checkpointSliceCharacters = 128 * 1024;

/** The most characters of a document's facts sent inline, and the size of each slice of larger ones. */
export const factsSliceCharacters = 64 * 1024;

export interface WriteDocumentInput {
  transitionId: string;
  kind: TransitionKind;
  step: string;
  documentId: string;
  title: string;
  previousSha256: string | null;
  client: { id: string; name: string; timezone: string };
  stepState: StepState;
  /** When the step finished, or when an interim document (a rejection) was written. */
  createdAt: string;
  /** The facts, when small; otherwise `factsSlices` says how many slices the activity reads by query. */
  facts?: DocumentFacts;
  factsSlices?: number;
  audit?: AuditMarker;
}

/** A page of one list of a scope stored by reference, from `offset`. */
export interface ScopePageInput {
  sha256: string;
  list: ScopeList;
  offset: number;
}

/** The most JSON characters of assets one scope page carries. */
export const scopePageCharacters = 128 * 1024;

export interface EmailInput {
  /** (transition, step, asset, purpose): within a run, the same key never sends twice. */
  idempotencyKey: string;
  to: string[];
  /** `templates/email/<template>.md.hbs`: its first line is the subject, the rest the text part, rendered to HTML for the HTML part. */
  template: string;
  data: Record<string, unknown>;
  audit?: AuditMarker;
}

export interface LinksInput {
  transitionId: string;
  purpose: LinkPurpose;
  /** The approval request id, or the credential id of an intake or reveal link. */
  requestId: string;
  /** Why these links go out (`request`, `reminder-N`, `reassigned-N`): each round mails every listed person a fresh link. */
  round: string;
  approvers: Person[];
  expiresAt: string;
  /** `templates/email/<template>.md.hbs`, given `data`, the approver, `reminder` and the `link`. */
  template: string;
  data: Record<string, unknown>;
  audit?: AuditMarker;
}

/**
 * Whether an email left. `in-doubt`: an earlier attempt claimed it and stopped before recording how
 * the send ended, so it may or may not have left; it is not sent again (at most once).
 */
export type Delivery = 'sent' | 'in-doubt';

export interface IssuedLink {
  approver: string;
  tokenHash: string;
  /** Absent in histories from before deliveries were reported: those were sent. */
  delivery?: Delivery;
}
