// Which run of a transition a read addresses. A cancelled transition may be started again under the
// same id; the documents, the trail and the pack show the latest run unless asked for another.
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type protos from '@temporalio/proto';
import type { DocumentStore, RunRef } from '../connectors/documents/port.js';
import { historyArchiveName } from '../domain/activity-contracts.js';
import { decodeHistory, startOf } from './history-codec.js';

type History = protos.temporal.api.history.v1.IHistory;

/** Thrown when neither Temporal nor the archive knows the transition, or the run asked for. */
export class UnknownTransitionError extends Error {}

export function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  const code = (error as { code?: number }).code;
  // WorkflowNotFoundError, or the gRPC NOT_FOUND (5) a deleted execution answers with.
  return name === 'WorkflowNotFoundError' || code === 5;
}

/** The chain Temporal knows a run to be part of (its own id for a run that did not continue one). */
async function chainOfKnownRun(client: Client, transitionId: string, runId: string): Promise<string | null> {
  try {
    return chainIdOf(await client.workflow.getHandle(transitionId, runId).describe());
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Of the runs with an archived history, the one that started last. */
async function latestArchivedRun(documents: DocumentStore, transitionId: string): Promise<string | null> {
  let latest: { runId: string; startedAt: number } | null = null;
  for (const runId of await documents.runIds(transitionId)) {
    const archive = await documents.readArchive({ transitionId, runId }, historyArchiveName);
    const start = archive && startOf(decodeHistory(archive));
    if (start && (!latest || start.startedAt > latest.startedAt))
      latest = { runId, startedAt: start.startedAt };
  }
  return latest?.runId ?? null;
}

/**
 * `runId` when the store or Temporal knows it; without one, the latest run: the one Temporal
 * describes, or, once Temporal has deleted the transition, the archived run that started last.
 */
export async function resolveRun(
  client: Client,
  documents: DocumentStore,
  transitionId: string,
  runId?: string,
): Promise<RunRef> {
  if (runId) {
    const chain = (await documents.runIds(transitionId)).includes(runId)
      ? runId
      : await chainOfKnownRun(client, transitionId, runId);
    if (!chain) throw new UnknownTransitionError(`no run ${runId} of ${transitionId}`);
    return { transitionId, runId: chain };
  }
  try {
    return { transitionId, runId: chainIdOf(await client.workflow.getHandle(transitionId).describe()) };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const latest = await latestArchivedRun(documents, transitionId);
  if (!latest) throw new UnknownTransitionError(`no transition ${transitionId}`);
  return { transitionId, runId: latest };
}

/**
 * The id a transition's run goes by: the first run's id, which the runs it continued as new into
 * keep (their documents, links, mail and archives are under it).
 */
export function chainIdOf(description: WorkflowExecutionDescription): string {
  return description.raw.workflowExecutionInfo?.firstRunId || description.runId;
}

/** The run a history continued as new into, from its last event; null when it did not. */
export function continuedInto(history: History): string | null {
  const last = history.events?.at(-1);
  return last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId || null;
}

/** The run a run continued as new into, asked of Temporal; null when it did not (or not yet). */
/** The workflow runs of a transition's run, first to last: each continued as new into the next. */
async function* runsOfChain(client: Client, transitionId: string, firstRunId: string) {
  for (let runId: string | null = firstRunId; runId;) {
    yield runId;
    const page = await client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace: client.options.namespace,
      execution: { workflowId: transitionId, runId },
      maximumPageSize: 1,
    });
    // Newest first, and the page may hold more than asked: the close event is the first.
    runId = continuedInto({ events: page.history?.events?.slice(0, 1) ?? [] });
  }
}

/** Which run a workflow run is part of, and its position in that run's chain (0 for the first). */
export async function chainPosition(
  client: Client,
  execution: RunRef,
): Promise<{ chain: RunRef; part: number }> {
  const description = await client.workflow.getHandle(execution.transitionId, execution.runId).describe();
  const chain = { transitionId: execution.transitionId, runId: chainIdOf(description) };
  let part = 0;
  for await (const runId of runsOfChain(client, chain.transitionId, chain.runId)) {
    if (runId === execution.runId) return { chain, part };
    part++;
  }
  throw new Error(`run ${execution.runId} is not in the chain of ${chain.runId}`);
}

/**
 * The run of a transition's chain that is running now, or that ran last: where its queries, signals
 * and updates go. A handle by workflow id alone may reach a later transition of the same id.
 */
async function latestRunOfChain(client: Client, transitionId: string, chainId: string): Promise<string> {
  const latest = await client.workflow.getHandle(transitionId).describe();
  if (chainIdOf(latest) === chainId) return latest.runId;
  let last = chainId;
  for await (const runId of runsOfChain(client, transitionId, chainId)) last = runId;
  return last;
}

/**
 * The description of the run a link or a read names, or of the run its chain went on in when it
 * continued as new: that one answers the link's queries, signals and updates.
 */
export async function describeChainRun(
  client: Client,
  transitionId: string,
  runId: string | undefined,
): Promise<WorkflowExecutionDescription> {
  const named = await client.workflow.getHandle(transitionId, runId).describe();
  if (named.status.name !== 'CONTINUED_AS_NEW') return named;
  const latest = await latestRunOfChain(client, transitionId, chainIdOf(named));
  return client.workflow.getHandle(transitionId, latest).describe();
}
