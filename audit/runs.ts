// Which run of a transition a read addresses. A cancelled transition may be started again under the
// same id; the documents, the trail and the pack show the latest run unless asked for another.
import type { Client } from '@temporalio/client';
import type { DocumentStore, RunRef } from '../connectors/documents/port.js';
import { historyArchiveName } from '../domain/activity-contracts.js';
import { decodeHistory, startOf } from './history-codec.js';

/** Thrown when neither Temporal nor the archive knows the transition, or the run asked for. */
export class UnknownTransitionError extends Error {}

export function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  const code = (error as { code?: number }).code;
  // WorkflowNotFoundError, or the gRPC NOT_FOUND (5) a deleted execution answers with.
  return name === 'WorkflowNotFoundError' || code === 5;
}

async function temporalKnows(client: Client, transitionId: string, runId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(transitionId, runId).describe();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
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
    const known =
      (await documents.runIds(transitionId)).includes(runId) ||
      (await temporalKnows(client, transitionId, runId));
    if (!known) throw new UnknownTransitionError(`no run ${runId} of ${transitionId}`);
    return { transitionId, runId };
  }
  try {
    return { transitionId, runId: (await client.workflow.getHandle(transitionId).describe()).runId };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const latest = await latestArchivedRun(documents, transitionId);
  if (!latest) throw new UnknownTransitionError(`no transition ${transitionId}`);
  return { transitionId, runId: latest };
}
