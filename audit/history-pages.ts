// A run's whole history, fetched a few events per page: one gRPC answer stays far below its 4 MB
// limit even when many events carry large (up to 256 kB) payloads, so a run of thousands of assets
// can still be archived and audited.
import type { Client } from '@temporalio/client';
import protos from '@temporalio/proto';
import type { RunRef } from '../connectors/documents/port.js';

type History = protos.temporal.api.history.v1.IHistory;
type HistoryEvent = protos.temporal.api.history.v1.IHistoryEvent;

const eventsPerPage = 16;

export async function fetchHistoryInPages(client: Client, run: RunRef): Promise<History> {
  const events: HistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: run.transitionId, runId: run.runId },
      maximumPageSize: eventsPerPage,
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return { events };
}
