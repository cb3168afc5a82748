// What can be done to a transition and read of it, whichever door a person comes in by: the JSON
// routes and the console both call these, so every Temporal call and its error mapping is written
// once. Requests arrive already validated (by the same zod schemas at both doors).
import {
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { Config } from '../config/config.js';
import type { ConnectionStore } from '../connectors/connections/port.js';
import type { DocumentStore } from '../connectors/documents/port.js';
import { describeChainRun } from '../audit/runs.js';
import type { Vault } from '../connectors/vault/port.js';
import {
  cancelSignal,
  cancelUpdate,
  completeTasksUpdate,
  completeTaskUpdate,
  extendUpdate,
  legalHoldUpdate,
  pauseUpdate,
  reassignApproverUpdate,
  releaseLegalHoldUpdate,
  reissueRevealUpdate,
  requestApprovalUpdate,
  resumeUpdate,
  retryUpdate,
  retryTaskUpdate,
  searchAttributes,
  transitionRunMemo,
  type TransitionRunMemo,
  stateQuery,
  supplyCredentialUpdate,
  tasksQuery,
  type CompleteTasksResult,
  type Evidence,
  type TaskPageRequest,
  type ExtendRequest,
  type SecretReference,
  type TransitionState,
  type TransitionStatus,
} from '../domain/definitions.js';
import {
  transitionId,
  type Person,
  type StartRequest,
  type StepKey,
  type TransitionKind,
} from '../domain/schemas.js';
import { inZones, offboardingDates, remindersBefore } from '../domain/timeline.js';
import { stepCatalogue } from '../workflows/catalogue.js';
import { fromTemporal, HttpError, knownHttpError, notFound, updateLimitReached } from './errors.js';
import type { Metrics } from './metrics.js';
import type { Caller } from './auth.js';
import { whenResumed } from './resuming.js';
import { runbookInput } from './runbook-input.js';
import { checkScopeConnections } from './scope-connections.js';
import { waitingOf, type Waiting } from './waiting.js';
import { workflowQueries, workflowUpdates } from './workflow-gates.js';

export interface OperationDeps {
  temporal: Client;
  config: Config;
  metrics: Metrics;
  vault: Vault;
  documents: DocumentStore;
  connections: ConnectionStore;
}

/** How long a cancel waits for the run to wind down before it answers. */
const cancelSettleMillis = 5_000;

export const controlUpdates = {
  pause: pauseUpdate,
  resume: resumeUpdate,
  cancel: cancelUpdate,
  extend: extendUpdate,
  'legal-hold': legalHoldUpdate,
  'legal-hold/release': releaseLegalHoldUpdate,
  retry: retryUpdate,
} as const;
export type ControlAction = keyof typeof controlUpdates;
export type ControlBody = { reason: string } & Partial<Pick<ExtendRequest, 'period' | 'by'>>;

export interface ListFilters {
  clientId?: string;
  kind?: TransitionKind;
  status?: TransitionStatus;
}

export type TransitionSummary = ReturnType<typeof summary>;

/** How long reading the states of a page of transitions may take, all of them together. */
const stateReadBudgetMillis = 3_000;
const stateReadConcurrency = 8;

/** Temporal's own status wins when the workflow ended without settling ours (terminated, timed out). */
export function statusOf(
  info: Pick<WorkflowExecutionInfo, 'status' | 'typedSearchAttributes'>,
): TransitionStatus {
  switch (info.status.name) {
    case 'COMPLETED':
    case 'RUNNING':
    case 'CONTINUED_AS_NEW':
      return (
        (info.typedSearchAttributes.get(searchAttributes.transitionStatus) as TransitionStatus) ?? 'running'
      );
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'failed';
  }
}

function summary(info: WorkflowExecutionInfo) {
  // A run that continued as new goes by its transition's run: the chain's first workflow run.
  const transitionRun = info.memo?.[transitionRunMemo] as TransitionRunMemo | undefined;
  return {
    id: info.workflowId,
    runId: transitionRun?.runId ?? info.runId,
    kind: (info.typedSearchAttributes.get(searchAttributes.transitionKind) ?? null) as TransitionKind | null,
    clientId: info.typedSearchAttributes.get(searchAttributes.clientId) ?? null,
    status: statusOf(info),
    currentStep: info.typedSearchAttributes.get(searchAttributes.currentStep) ?? null,
    startedAt: transitionRun?.startedAt ?? info.startTime.toISOString(),
    closedAt: info.closeTime?.toISOString() ?? null,
  };
}

/**
 * An Update to a closed workflow can come back as NotFound (the wording varies with timing): when the
 * transition exists but has finished, that is a conflict, not an unknown transition.
 */
export async function closedAsConflict(temporal: Client, id: string, error: unknown): Promise<unknown> {
  if (fromTemporal(error)?.status !== 404) return error;
  const description = await temporal.workflow
    .getHandle(id)
    .describe()
    .catch(() => null);
  if (!description || description.status.name === 'RUNNING') return error;
  return new HttpError(409, 'conflict', `the transition has already finished (${statusOf(description)})`);
}

/** The plan a dry run returns: steps in order, the dates and the reminders that fall on fixed dates. */
export function plan(request: StartRequest) {
  const asked = (key: string) => (request.approvalSteps as string[]).includes(key);
  const steps = stepCatalogue[request.kind].map(({ key, title, approvalWhen }) => ({
    key,
    title,
    needsApproval: asked(key),
    ...(asked(key) && approvalWhen ? { approvalWhen } : {}),
  }));
  if (request.kind !== 'offboarding') return { steps, dates: {}, reminders: [] };
  const dates = offboardingDates(request.terms);
  const zone = request.client.timezone;
  const reminders = [
    ...remindersBefore(dates.noticeReceivedAt, dates.cutoverAt).map((at) => ({ before: 'cutover', at })),
    ...remindersBefore(dates.assistanceEndsAt, dates.deletionDueAt).map((at) => ({
      before: 'retention-deletion',
      at,
    })),
  ].map((reminder) => ({ ...reminder, ...inZones(reminder.at, zone) }));
  return {
    steps,
    dates: Object.fromEntries(Object.entries(dates).map(([name, at]) => [name, inZones(at, zone)])),
    reminders: reminders.map(({ before, utc, local }) => ({ before, utc, local })),
  };
}
export type Plan = ReturnType<typeof plan>;

export function createOperations({
  temporal,
  config,
  metrics,
  vault,
  documents,
  connections,
}: OperationDeps) {
  const handle = (id: string) => temporal.workflow.getHandle(id);

  /**
   * The person the caller's key names, looked up by key name so the console (whose session carries
   * the name only) and the API agree.
   */
  const holderOf = (caller: Caller) => {
    const holder = config.apiKeys.find((key) => key.name === caller.name)?.holder;
    return holder ? { actorHolder: holder } : {};
  };

  /** Runs an Update (in turn, see WorkflowGates); a finished transition answers 409, not 404. */
  const update = <T>(id: string, run: (h: WorkflowHandle) => Promise<T>) =>
    workflowUpdates
      .run(id, () => run(handle(id)))
      .catch(async (error: unknown) => {
        throw await closedAsConflict(temporal, id, error);
      });

  /** Runs a query of a workflow in turn: Temporal buffers one while the workflow is busy. */
  const query = <T>(id: string, runId: string | undefined, run: (h: WorkflowHandle) => Promise<T>) =>
    workflowQueries.run(id, () => whenResumed(() => run(temporal.workflow.getHandle(id, runId))));

  /** The cancel of a run that takes no more Updates: sent as a Signal, then read back from the state. */
  async function cancelBySignal(id: string, reason: string, caller: Caller): Promise<TransitionState> {
    await handle(id).signal(cancelSignal, { reason, actor: caller.name });
    metrics.workflowActions.inc({ action: 'cancel', outcome: 'accepted' });
    return settled(id, await query(id, undefined, (h) => h.query(stateQuery)));
  }

  /**
   * What a cancel answers: the final state once the run has wound down (its step's document written,
   * usually well under a second), so the caller sees `cancelled`; the state as the cancel left it
   * when winding down takes longer (a stalled document store).
   */
  async function settled(id: string, accepted: TransitionState): Promise<TransitionState> {
    return temporal
      .withDeadline(Date.now() + cancelSettleMillis, () => temporal.workflow.getHandle(id).result())
      .then(
        (state) => state as TransitionState,
        () => accepted,
      );
  }

  /** A run's state: a completed run's result is its final state (no worker needs to replay it). */
  async function stateOfRun(id: string, runId: string | undefined, completed: boolean) {
    if (completed) return temporal.workflow.getHandle(id, runId).result() as Promise<TransitionState>;
    return query(id, runId, (run) => run.query(stateQuery));
  }

  return {
    async readState(id: string): Promise<TransitionState> {
      const description = await handle(id).describe();
      const completed = description.status.name === 'COMPLETED';
      // A running transition is asked by its id: should it continue as new meanwhile, the run it
      // goes on in answers, not the closed one (which a worker would have to replay whole).
      const running = description.status.name === 'RUNNING';
      const state = await stateOfRun(id, running ? undefined : description.runId, completed);
      return completed ? state : { ...state, status: statusOf(description) };
    },

    /** Refuses a scope naming a connection the runbook could not use (400). */
    checkConnections: (request: StartRequest) => checkScopeConnections(connections, request),

    async start(request: StartRequest, caller: Caller) {
      await checkScopeConnections(connections, request);
      const id = transitionId(request.kind, request.client.id);
      await temporal.workflow.start(`${request.kind}Workflow`, {
        taskQueue: config.temporal.taskQueue,
        workflowId: id,
        args: [await runbookInput(documents, id, request, caller.name, config.historyBudget)],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: new TypedSearchAttributes([
          { key: searchAttributes.clientId, value: request.client.id },
          { key: searchAttributes.transitionKind, value: request.kind },
          { key: searchAttributes.transitionStatus, value: 'running' },
        ]),
      });
      metrics.transitionsStarted.inc({ kind: request.kind });
      return { id, kind: request.kind, clientId: request.client.id, status: 'running' as const };
    },

    /** Transitions from Temporal visibility, newest first; `more` says whether another page follows. */
    async list(filters: ListFilters, page: { offset: number; limit: number }) {
      // A run that continued as new is listed once, by the workflow run it goes on in.
      const query = [
        `${searchAttributes.transitionKind.name} IS NOT NULL`,
        `ExecutionStatus != 'ContinuedAsNew'`,
      ];
      if (filters.clientId) query.push(`${searchAttributes.clientId.name} = '${filters.clientId}'`);
      if (filters.kind) query.push(`${searchAttributes.transitionKind.name} = '${filters.kind}'`);
      if (filters.status) query.push(`${searchAttributes.transitionStatus.name} = '${filters.status}'`);
      const transitions: TransitionSummary[] = [];
      let seen = 0;
      for await (const info of temporal.workflow.list({ query: query.join(' AND ') })) {
        if (seen++ < page.offset) continue;
        if (transitions.length === page.limit) return { transitions, more: true };
        transitions.push(summary(info));
      }
      return { transitions, more: false };
    },

    /**
     * The states of listed transitions (running ones by query, finished ones from their result),
     * within one shared time budget: a state not read in time (no worker, a slow replay) is null
     * rather than holding up the whole list.
     */
    async readStates(transitions: TransitionSummary[]): Promise<(TransitionState | null)[]> {
      const states: (TransitionState | null)[] = transitions.map(() => null);
      const deadline = Date.now() + stateReadBudgetMillis;
      let next = 0;
      const reader = async () => {
        while (next < transitions.length && Date.now() < deadline) {
          const index = next++;
          const { id, runId, status } = transitions[index]!;
          if (status === 'failed') continue;
          // A running transition is its workflow id's latest run (which may have continued as new);
          // a finished one's result follows its chain from the first run.
          const running = status === 'running';
          states[index] = await temporal
            .withDeadline(deadline, () => stateOfRun(id, running ? undefined : runId, !running))
            .catch(() => null);
        }
      };
      await Promise.all(Array.from({ length: stateReadConcurrency }, reader));
      return states;
    },

    async control(action: ControlAction, id: string, body: ControlBody, caller: Caller) {
      try {
        const state = await workflowUpdates.run(id, () =>
          handle(id).executeUpdate(controlUpdates[action] as typeof extendUpdate, {
            args: [{ ...(body as ExtendRequest), actor: caller.name }],
          }),
        );
        metrics.workflowActions.inc({ action, outcome: 'accepted' });
        return action === 'cancel' ? await settled(id, state) : state;
      } catch (error) {
        if (action === 'cancel' && updateLimitReached(error)) return cancelBySignal(id, body.reason, caller);
        metrics.workflowActions.inc({ action, outcome: 'refused' });
        throw await closedAsConflict(temporal, id, error);
      }
    },

    completeTask: (id: string, taskId: string, evidence: Evidence, caller: Caller) =>
      update(id, (h) =>
        h.executeUpdate(completeTaskUpdate, {
          args: [{ taskId, evidence, actor: caller.name, ...holderOf(caller) }],
        }),
      ),

    /** Runs a failed connector's automation of an open task again; answers the task, its connector running. */
    retryTask: (id: string, taskId: string, caller: Caller) =>
      update(id, (h) => h.executeUpdate(retryTaskUpdate, { args: [{ taskId, actor: caller.name }] })),

    /** A page of a run's tasks (the latest run's, or `runId`'s, wherever it continued as new). */
    async tasks(id: string, runId: string | undefined, request: TaskPageRequest) {
      const execution = runId ? (await describeChainRun(temporal, id, runId)).runId : undefined;
      return query(id, execution, (run) => run.query(tasksQuery, request));
    },

    /**
     * Completes up to 1,000 tasks. Every item is checked against the run first, so a batch with an
     * unknown or finished task changes nothing; the items then go in Updates of a bounded size (a
     * batch of long evidence is several Updates, each all-or-nothing, sent in order).
     */
    async completeTasks(id: string, items: TaskCompletion[], caller: Caller): Promise<CompleteTasksResult> {
      const ids = items.map((item) => item.taskId);
      const twice = ids.find((taskId, index) => ids.indexOf(taskId) !== index);
      if (twice) throw new HttpError(400, 'invalid_request', `task ${twice} is listed twice`);
      const found = await query(id, undefined, (h) => h.query(tasksQuery, { ids, limit: ids.length })).catch(
        async (error: unknown) => {
          throw await closedAsConflict(temporal, id, error);
        },
      );
      const byId = new Map(found.tasks.map((task) => [task.id, task]));
      const unknown = ids.filter((taskId) => !byId.has(taskId));
      if (unknown.length) throw notFound(`no task ${firstTen(unknown)}`);
      const done = found.tasks.filter((task) => task.status !== 'open');
      if (done.length)
        throw new HttpError(
          409,
          'conflict',
          `not open, so nothing was completed: ${firstTen(done.map((task) => `${task.id} (${task.status})`))}`,
        );
      let result: CompleteTasksResult = { completed: 0, counts: found.counts };
      for (const batch of batchesOf(items)) {
        const answer = await update(id, (h) =>
          h.executeUpdate(completeTasksUpdate, {
            args: [{ items: batch, actor: caller.name, ...holderOf(caller) }],
          }),
        ).catch((error: unknown) => {
          if (result.completed === 0) throw error;
          // Something changed between the check and a later Update (a task completed meanwhile).
          const cause = knownHttpError(error, 'POST');
          throw new HttpError(
            cause?.status ?? 503,
            cause?.code ?? 'partly_done',
            `${result.completed} of ${items.length} tasks were completed; the rest were not: ${cause?.message ?? 'the transition did not answer'}`,
          );
        });
        result = { completed: result.completed + answer.completed, counts: answer.counts };
      }
      metrics.workflowActions.inc({ action: 'complete-tasks', outcome: 'accepted' });
      return result;
    },

    requestApproval: (id: string, step: StepKey, reason: string, caller: Caller) =>
      update(id, (h) =>
        h.executeUpdate(requestApprovalUpdate, { args: [{ step, reason, actor: caller.name }] }),
      ),

    reassignApprover: (id: string, request: { from: string; to: Person; reason: string }, caller: Caller) =>
      update(id, (h) =>
        h.executeUpdate(reassignApproverUpdate, { args: [{ ...request, actor: caller.name }] }),
      ),

    /** Puts a secret the runbook awaits straight into the vault; only its reference leaves. */
    async supplyCredential(
      id: string,
      credentialId: string,
      secret: string,
      caller: Caller,
    ): Promise<SecretReference> {
      // Checked before storing, so a request that cannot count leaves nothing in the vault.
      const state = await query(id, undefined, (h) => h.query(stateQuery));
      const credential = state.credentials.find((candidate) => candidate.id === credentialId);
      if (!credential) throw notFound(`no credential ${credentialId} awaited in ${id}`);
      if (credential.status !== 'awaiting')
        throw new HttpError(409, 'conflict', `credential ${credentialId} is already ${credential.status}`);
      const reference = await vaultSecret(id, credential.step, credential.id, secret);
      await update(id, (h) =>
        h.executeUpdate(supplyCredentialUpdate, {
          args: [{ credentialId: credential.id, reference, via: 'operator-api', actor: caller.name }],
        }),
      );
      return reference;
    },

    reissueReveal: (id: string, credentialId: string, reason: string, caller: Caller) =>
      update(id, (h) =>
        h.executeUpdate(reissueRevealUpdate, { args: [{ credentialId, reason, actor: caller.name }] }),
      ),

    vaultSecret,
  };

  /** Stores a new version; the reference is all that leaves this function. */
  async function vaultSecret(id: string, step: string, credentialId: string, value: string) {
    const stored = await vault.put(`${id}/${step}/${credentialId}`, value);
    return {
      vaultId: stored.vaultId,
      version: stored.version,
      fingerprint: stored.fingerprint,
    } satisfies SecretReference;
  }
}

export type Operations = ReturnType<typeof createOperations>;

export interface TaskCompletion {
  taskId: string;
  evidence: Evidence;
}

/** A list an error names: its first ten, and how many more. */
function firstTen(items: string[]): string {
  return `${items.slice(0, 10).join(', ')}${items.length > 10 ? ` and ${items.length - 10} more` : ''}`;
}

/** The most JSON characters of task completions one Update carries: far below the payload limits. */
const batchCharacters = 128 * 1024;

/** Consecutive runs of items, each under `batchCharacters` as JSON (one item always goes). */
function batchesOf(items: TaskCompletion[]): TaskCompletion[][] {
  const batches: TaskCompletion[][] = [];
  let batch: TaskCompletion[] = [];
  let characters = 0;
  for (const item of items) {
    const size = JSON.stringify(item).length;
    if (batch.length && characters + size > batchCharacters) {
      batches.push(batch);
      batch = [];
      characters = 0;
    }
    batch.push(item);
    characters += size;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

/** A listed transition with what it waits on: null when nothing does, `unknown` when its state was not read in time. */
export function withWaiting(
  transition: TransitionSummary,
  state: TransitionState | null,
): TransitionSummary & { waiting: Waiting | { on: 'unknown' } | null } {
  if (transition.status !== 'running') return { ...transition, waiting: null };
  return { ...transition, waiting: state ? waitingOf({ ...state, status: 'running' }) : { on: 'unknown' } };
}
