import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { resolveRun, UnknownTransitionError } from '../../audit/runs.js';
import type { DocumentStore, RunRef } from '../../connectors/documents/port.js';
import { notFound } from '../errors.js';

/** `?runId=`: an earlier run of a transition started again; without it, reads show the latest run. */
export const runQuery = z.object({
  runId: z
    .string()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'expected a Temporal run id')
    .optional(),
});

/** The run a read addresses, or 404 when neither Temporal nor the document store knows it. */
export async function runToRead(
  deps: { temporal: Client; documents: DocumentStore },
  transitionId: string,
  runId: string | undefined,
): Promise<RunRef> {
  try {
    return await resolveRun(deps.temporal, deps.documents, transitionId, runId);
  } catch (error) {
    if (error instanceof UnknownTransitionError) throw notFound(runId ? 'no such run' : 'no such transition');
    throw error;
  }
}
