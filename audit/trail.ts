// The audit trail (docs/design.md §6): an ordered list of what happened, who did it and when, built from a
// transition's Temporal event history (live, or the archived copy) and its documents.
import type { LoadedDataConverter } from '@temporalio/common';
import {
  decodeArrayFromPayloads,
  decodeUserMetadata,
} from '@temporalio/common/lib/internal-non-workflow/index.js';
import { decodeSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes.js';
import protos from '@temporalio/proto';
import type { AuditMarker, Delivery, IssuedLink } from '../domain/activity-contracts.js';
import type { AutomationOutcome } from '../domain/automation.js';
import type { DocumentMeta } from '../connectors/documents/port.js';
import {
  searchAttributes,
  type CompleteTasksRequest,
  type DecideBatchResult,
  type DecideResult,
  type DecisionMarker,
  type Evidence,
  type TaskState,
} from '../domain/definitions.js';
import type { StartRequest } from '../domain/schemas.js';
import { inZones } from '../domain/timeline.js';

type HistoryEvent = protos.temporal.api.history.v1.IHistoryEvent;
export type History = protos.temporal.api.history.v1.IHistory;
const EventType = protos.temporal.api.enums.v1.EventType;

export interface TrailEntry {
  seq: number;
  at: string;
  atLocal: string;
  /** An operator key's name, an approver's email, `system`, or a link holder. */
  actor: string;
  action: string;
  step: string;
  details: string;
  documentId: string;
  sha256: string;
}

export interface TrailHeader {
  transitionId: string;
  kind: string;
  clientId: string;
  clientName: string;
  timezone: string;
  startedAt: string;
  startedBy: string;
  finishedAt: string | null;
  outcome: string;
}

/** What a history event contributes to an entry; the time, sequence and local time are added after. */
type EntryFields = Partial<Omit<TrailEntry, 'seq' | 'at' | 'atLocal'>> & { action: string };

interface Pending {
  type: string;
  input: Record<string, unknown>;
}

/** The links mailed so far, by token hash: whom each was for, and for what. */
type Links = Map<string, { approver: string; purpose: string; requestId: string }>;

const system = 'system';

const updateActions: Record<string, string> = {
  pause: 'paused',
  resume: 'resumed',
  cancel: 'cancelled',
  extend: 'extended',
  legalHold: 'legal hold placed',
  releaseLegalHold: 'legal hold released',
  requestApproval: 'approval requested again',
  reassignApprover: 'approver reassigned',
  reissueReveal: 'reveal link reissued',
  retryTask: 'connector run again',
  retry: 'stalled side effect retried',
};

function timeOf(event: HistoryEvent): string {
  const time = event.eventTime;
  const millis = Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);
  return new Date(millis).toISOString();
}

function secondsOf(duration: protos.google.protobuf.IDuration | null | undefined): number {
  return Number(duration?.seconds ?? 0) + (duration?.nanos ?? 0) / 1e9;
}

/** Builds the trail of one transition from its history, decoding payloads with the client's converter. */
export async function buildTrail(
  transitionId: string,
  histories: readonly History[],
  converter: LoadedDataConverter,
): Promise<{ header: TrailHeader; entries: TrailEntry[] }> {
  const decode = async (payloads: protos.temporal.api.common.v1.IPayloads | null | undefined) =>
    decodeArrayFromPayloads(converter, payloads?.payloads ?? []);
  const entries: Omit<TrailEntry, 'seq' | 'atLocal'>[] = [];
  const header: TrailHeader = {
    transitionId,
    kind: '',
    clientId: '',
    clientName: '',
    timezone: 'UTC',
    startedAt: '',
    startedBy: '',
    finishedAt: null,
    outcome: 'running',
  };
  const activities = new Map<string, Pending>();
  const updates = new Map<string, Pending>();
  const timers = new Map<string, string>();
  const links: Links = new Map();
  let currentStep = '';
  let status = 'running';

  const add = (at: string, entry: EntryFields) =>
    entries.push({
      at,
      actor: entry.actor ?? system,
      action: entry.action,
      step: entry.step ?? currentStep,
      details: entry.details ?? '',
      documentId: entry.documentId ?? '',
      sha256: entry.sha256 ?? '',
    });

  // A run that continued as new goes on in the next history: event ids start again in each.
  for (const [part, history] of histories.entries()) {
    activities.clear();
    updates.clear();
    timers.clear();
    for (const event of history.events ?? []) {
      const at = timeOf(event);
      switch (event.eventType) {
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
          const attributes = event.workflowExecutionStartedEventAttributes!;
          if (part > 0) {
            add(at, {
              action: 'continued as new',
              step: '',
              details: `part ${part + 1} of this run (workflow run ${attributes.originalExecutionRunId}): the history had grown long, so the runbook went on in a new workflow run, with the same documents, links and state`,
            });
            break;
          }
          const [request] = (await decode(attributes.input)) as [StartRequest & { startedBy: string }];
          Object.assign(header, {
            kind: request.kind,
            clientId: request.client.id,
            clientName: request.client.name,
            timezone: request.client.timezone,
            startedAt: at,
            startedBy: request.startedBy,
          });
          add(at, {
            actor: request.startedBy,
            action: 'started',
            step: '',
            details: `${request.kind} of ${request.client.name} (${request.client.id}); approvers ${request.contacts.approvers.map((p) => p.email).join(', ')}; approval steps ${request.approvalSteps.join(', ') || 'none'}`,
          });
          break;
        }
        case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
          const fields = decodeSearchAttributes(
            event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields,
          );
          const step = fields[searchAttributes.currentStep.name]?.[0];
          const nextStatus = fields[searchAttributes.transitionStatus.name]?.[0];
          if (typeof step === 'string' && step !== currentStep) {
            currentStep = step;
            add(at, { action: 'step started', step });
          }
          if (typeof nextStatus === 'string' && nextStatus !== status) {
            status = nextStatus;
            header.outcome = nextStatus;
            header.finishedAt = at;
            add(at, { action: 'finished', step: '', details: nextStatus });
          }
          break;
        }
        case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
          const attributes = event.activityTaskScheduledEventAttributes!;
          const [input] = (await decode(attributes.input)) as [Record<string, unknown>];
          activities.set(String(event.eventId), { type: attributes.activityType?.name ?? '', input });
          break;
        }
        case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
          const attributes = event.activityTaskCompletedEventAttributes!;
          const scheduled = activities.get(String(attributes.scheduledEventId));
          // Archiving and checkpoints keep the trail and the run going: housekeeping, not events of
          // the transition (a continuation shows as its own entry).
          if (!scheduled || isHousekeeping(scheduled)) break;
          const [result] = await decode(attributes.result);
          for (const entry of activityEntries(scheduled, result, links)) add(at, entry);
          break;
        }
        case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
          const attributes =
            event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
          const scheduled = activities.get(String(attributes?.scheduledEventId));
          if (!scheduled || isHousekeeping(scheduled)) break;
          add(at, {
            action: 'activity failed',
            details: `${scheduled.type}: ${attributes?.failure?.message ?? 'timed out'}`,
          });
          break;
        }
        case EventType.EVENT_TYPE_TIMER_STARTED: {
          const attributes = event.timerStartedEventAttributes!;
          const summary = (await decodeUserMetadata(converter, event.userMetadata)).staticSummary ?? 'timer';
          timers.set(attributes.timerId ?? '', summary);
          const firesAt = new Date(
            Date.parse(at) + secondsOf(attributes.startToFireTimeout) * 1000,
          ).toISOString();
          add(at, { action: 'timer started', details: `${summary}: fires at ${firesAt}` });
          break;
        }
        case EventType.EVENT_TYPE_TIMER_FIRED: {
          const attributes = event.timerFiredEventAttributes!;
          add(at, { action: 'timer fired', details: timers.get(attributes.timerId ?? '') ?? 'timer' });
          break;
        }
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
          const attributes = event.workflowExecutionSignaledEventAttributes!;
          if (attributes.signalName !== 'linkOpened') break;
          const [opened] = (await decode(attributes.input)) as [
            { tokenHash: string; ip: string; userAgent: string },
          ];
          const link = links.get(opened.tokenHash);
          add(at, {
            actor: link?.approver ?? 'link holder',
            action: 'link opened',
            details: `${link ? `${link.purpose} link for ${link.requestId}` : 'unknown link'}; opened, not a decision; IP ${opened.ip}; user agent ${opened.userAgent}`,
          });
          break;
        }
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
          const attributes = event.workflowExecutionUpdateAcceptedEventAttributes!;
          const request = attributes.acceptedRequest;
          const [input] = (await decode(request?.input?.args)) as [Record<string, unknown>];
          updates.set(request?.meta?.updateId ?? '', { type: request?.input?.name ?? '', input });
          break;
        }
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
          const attributes = event.workflowExecutionUpdateCompletedEventAttributes!;
          const update = updates.get(attributes.meta?.updateId ?? '');
          if (!update || !attributes.outcome?.success) break;
          const [result] = await decode(attributes.outcome.success);
          const entries =
            update.type === 'completeTasks'
              ? batchCompletionEntries(update.input)
              : (markedDecisionEntries(update.input, result, links) ?? [updateEntry(update, result, links)]);
          for (const entry of entries) if (entry) add(at, entry);
          break;
        }
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: {
          const attributes = event.workflowExecutionTerminatedEventAttributes!;
          header.outcome = 'terminated';
          header.finishedAt = at;
          add(at, {
            actor: attributes.identity || system,
            action: 'terminated',
            step: '',
            details: attributes.reason ?? '',
          });
          break;
        }
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
          header.outcome = 'timed out';
          header.finishedAt = at;
          add(at, { action: 'timed out', step: '' });
          break;
        default:
          // The close event is left out on purpose: the archive, copied just before it, must give the
          // same trail as the live history. The final status comes from the TransitionStatus change.
          break;
      }
    }
  }
  return {
    header,
    entries: entries.map((entry, index) => ({
      seq: index + 1,
      ...entry,
      atLocal: inZones(entry.at, header.timezone).local,
    })),
  };
}

/** Said of an email the ledger could not vouch for (see `Delivery`). */
function inDoubt(to: string): string {
  return `; in doubt whether it reached ${to}: an attempt stopped between sending and recording it, and it was not sent again`;
}

/**
 * What an activity call was, for the trail: its audit marker, or, in archives written before calls
 * carried one (before 0.2.0), what those releases' activity names and keys said. Those names are
 * frozen in the archives, so this fallback never follows a later rename.
 */
function activityEventOf({ type, input }: Pending): AuditMarker['event'] | null {
  const marker = input.audit as AuditMarker | undefined;
  if (marker?.v === 1) return marker.event;
  switch (type) {
    case 'writeDocument':
      return 'document';
    case 'sendLinks':
      return 'links';
    case 'archiveHistory':
      return 'archive';
    case 'sendEmail':
      if (input.template === 'tasks') return 'tasks-created';
      return String(input.idempotencyKey).includes(':escalated:') ? 'escalation' : 'notice';
    default:
      return null;
  }
}

function isHousekeeping(scheduled: Pending): boolean {
  const event = activityEventOf(scheduled);
  return event === 'archive' || event === 'checkpoint';
}

/** How a step document's step ended: from its marker, or from what releases before markers wrote. */
function documentOutcome(input: Record<string, unknown>, document: DocumentMeta): string {
  const marker = input.audit as AuditMarker | undefined;
  if (marker?.v === 1 && marker.event === 'document') return marker.outcome;
  const facts = (input.facts ?? {}) as { outcome?: string };
  return document.id.includes('-rejected-') ? 'rejected' : (facts.outcome ?? 'completed');
}

function activityEntries(scheduled: Pending, result: unknown, links: Links): EntryFields[] {
  const input = scheduled.input;
  switch (activityEventOf(scheduled)) {
    case 'document': {
      const document = result as DocumentMeta;
      return [
        { action: `step ${documentOutcome(input, document)}`, step: document.step },
        {
          action: 'document written',
          step: document.step,
          details: document.title,
          documentId: document.id,
          sha256: document.sha256,
        },
      ];
    }
    case 'links': {
      const issued = result as IssuedLink[];
      const purpose = String(input.purpose);
      const requestId = String(input.requestId);
      for (const link of issued) links.set(link.tokenHash, { approver: link.approver, purpose, requestId });
      const round = String(input.round);
      const to = issued.map((link) => link.approver).join(', ');
      const doubtful = issued.filter((link) => link.delivery === 'in-doubt').map((link) => link.approver);
      const what =
        { approval: 'approval', intake: 'credential intake', reveal: 'credential reveal' }[purpose] ??
        purpose;
      const action = round.startsWith('reminder')
        ? `${what} reminded`
        : round.startsWith('reassigned')
          ? `${what} link sent to new approver`
          : `${what} requested`;
      return [
        {
          action,
          details: `${requestId}: link to ${to}${doubtful.length ? inDoubt(doubtful.join(', ')) : ''}`,
        },
      ];
    }
    case 'tasks-created':
    case 'escalation':
    case 'notice': {
      const key = String(input.idempotencyKey);
      const data = (input.data ?? {}) as { tasks?: TaskState[]; taskCount?: number; subject?: string };
      const to = (input.to as string[]).join(', ');
      // Histories from before deliveries were reported have no result: those were sent.
      const doubt = (result as Delivery | undefined) === 'in-doubt' ? inDoubt(to) : '';
      const event = activityEventOf(scheduled);
      if (event === 'tasks-created') {
        const tasks = data.tasks ?? [];
        const created = tasks.map((task) => ({
          action: 'task created',
          step: task.step,
          details: `${task.id}: ${task.title}; emailed to ${to}${doubt}`,
        }));
        // A step of many tasks names the first ones in its email; each task shows in its completion.
        const more = (data.taskCount ?? tasks.length) - tasks.length;
        if (more > 0)
          created.push({
            action: 'tasks created',
            step: tasks[0]!.step,
            details: `and ${more} more (${data.taskCount} in all); emailed to ${to}${doubt}`,
          });
        return created;
      }
      if (event === 'escalation')
        return [{ action: 'approval escalated', details: `${data.subject ?? ''}; emailed to ${to}${doubt}` }];
      return [{ action: 'notice sent', details: `${data.subject ?? key}; to ${to}${doubt}` }];
    }
    case 'automation':
      return ((result ?? []) as AutomationOutcome[]).map((outcome) => ({
        action: outcome.ok ? 'connector work done and verified' : 'connector work failed',
        step: String(input.step),
        details: outcome.ok
          ? `${outcome.assetId}: ${outcome.evidence.connector} through ${outcome.evidence.connection}; ${outcome.evidence.verifications.map((check) => `${check.what}: ${check.passed ? 'passed' : 'failed'}`).join('; ')}`
          : `${outcome.assetId}: ${outcome.errorType} after ${outcome.attempts} attempt(s): ${outcome.error}; left for a person`,
      }));
    default:
      return [{ action: `${scheduled.type} done` }];
  }
}

function evidenceDetails(taskId: string, evidence: Evidence | undefined): string {
  const parts = [
    `${taskId}: ${evidence?.text ?? ''}`,
    evidence?.url && `url ${evidence.url}`,
    evidence?.method && `method ${evidence.method}`,
    evidence?.tool && `tool ${evidence.tool}`,
    evidence?.verification && `verification ${evidence.verification}`,
    evidence?.restore &&
      `restore ${evidence.restore.startedAt} to ${evidence.restore.endedAt}, integrity ${evidence.restore.integrityCheck}, verified by ${evidence.restore.verifiedBy}`,
  ];
  return parts.filter(Boolean).join('; ');
}

/** A batch completion: one entry per task, read from the accepted request (the result only counts). */
function batchCompletionEntries(input: Record<string, unknown>): EntryFields[] {
  const { actor, items } = input as unknown as CompleteTasksRequest;
  return items.map((item) => ({
    actor,
    action: 'task completed',
    step: item.taskId.slice(0, item.taskId.indexOf('.')),
    details: evidenceDetails(item.taskId, item.evidence),
  }));
}

/** An approver's decision: who (by their link), what, their comment, and where the request stands after it. */
function decisionEntry(input: Record<string, unknown>, decided: DecideResult, links: Links): EntryFields {
  const link = links.get(String(input.tokenHash));
  return {
    actor: link?.approver ?? 'link holder',
    action: 'approval decided',
    step: decided.step,
    details: `${decided.recorded}${input.comment ? `: “${String(input.comment)}”` : ''}; request ${link?.requestId ?? ''} now ${decided.approvalStatus}; IP ${String(input.ip)}; user agent ${String(input.userAgent)}`,
  };
}

function isMarkedDecision(item: unknown): item is Record<string, unknown> {
  const marker = (item as { audit?: DecisionMarker } | null)?.audit;
  return marker?.v === 1 && marker.event === 'decision';
}

/**
 * The decisions an Update carries as items marked `decision` (presses sent together), one entry
 * each with its own outcome; null when it carries none. A refused item changed nothing and has no
 * entry, as a press refused on its own leaves no trace in the history.
 */
function markedDecisionEntries(
  input: Record<string, unknown>,
  result: unknown,
  links: Links,
): EntryFields[] | null {
  const items = input.items;
  if (!Array.isArray(items) || !items.some(isMarkedDecision)) return null;
  const { outcomes } = result as DecideBatchResult;
  return items.flatMap((item: unknown, index) => {
    const outcome = outcomes[index];
    return isMarkedDecision(item) && outcome?.ok ? [decisionEntry(item, outcome.result, links)] : [];
  });
}

function updateEntry(update: Pending, result: unknown, links: Links): EntryFields | null {
  const input = update.input;
  const actor = typeof input.actor === 'string' ? input.actor : undefined;
  const reason = typeof input.reason === 'string' ? `reason: ${input.reason}` : '';
  switch (update.type) {
    case 'completeTask': {
      const task = result as TaskState;
      return {
        actor,
        action: 'task completed',
        step: task.step,
        details: evidenceDetails(task.id, task.evidence),
      };
    }
    case 'decide':
      return decisionEntry(input, result as DecideResult, links);
    case 'supplyCredential': {
      const credential = result as {
        id: string;
        step: string;
        suppliedBy: string;
        reference: { vaultId: string; version: number; fingerprint: string };
      };
      return {
        actor: credential.suppliedBy,
        action: 'credential vaulted',
        step: credential.step,
        details: `${credential.id} via ${String(input.via)}: ${credential.reference.vaultId} v${credential.reference.version}, fingerprint ${credential.reference.fingerprint}`,
      };
    }
    case 'revealCredential': {
      const link = links.get(String(input.tokenHash));
      return {
        actor: link?.approver ?? 'link holder',
        action: 'credential revealed',
        details: `${link?.requestId ?? ''}; IP ${String(input.ip)}; user agent ${String(input.userAgent)}`,
      };
    }
    default: {
      const action = updateActions[update.type];
      if (!action) return null;
      const extra =
        update.type === 'extend'
          ? `${String(input.period)} by ${String(input.by)}; `
          : update.type === 'reassignApprover'
            ? `${String(input.from)} → ${(input.to as { email: string }).email}; `
            : update.type === 'requestApproval'
              ? `step ${String(input.step)}; `
              : update.type === 'reissueReveal'
                ? `credential ${String(input.credentialId)}; `
                : update.type === 'retryTask'
                  ? `task ${String(input.taskId)}`
                  : '';
      return { actor, action, details: `${extra}${reason}` };
    }
  }
}
