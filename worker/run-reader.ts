// What activities read of runs through Temporal: a run's history (for the archive), the runs a
// visibility query finds (for the sweep), and the slices of a large document's facts (from the run
// writing it). The client must carry the payload codec: the facts come back through it.
import type { Client } from '@temporalio/client';
import type { RunRef } from '../connectors/documents/port.js';
import { documentFactsQuery } from '../domain/definitions.js';
import { encodeHistory } from '../audit/history-codec.js';
import { fetchHistoryInPages } from '../audit/history-pages.js';
import { chainPosition } from '../audit/runs.js';
import type { ArchivableRun } from '../activities/index.js';

export function runReader(client: Client) {
  return {
    historyBytes: async (run: RunRef) => encodeHistory(await fetchHistoryInPages(client, run)),
    listRuns: async (query: string) => {
      const runs: ArchivableRun[] = [];
      for await (const info of client.workflow.list({ query })) {
        const execution = { transitionId: info.workflowId, runId: info.runId };
        runs.push({ execution, ...(await chainPosition(client, execution)) });
      }
      return runs;
    },
    documentFactsSlice: (run: RunRef, documentId: string, slice: number) =>
      client.workflow.getHandle(run.transitionId, run.runId).query(documentFactsQuery, { documentId, slice }),
  };
}
