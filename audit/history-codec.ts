// The archived history is Temporal's own protobuf encoding: exact, compact, and its payloads stay as
// Temporal stored them (encrypted when the payload codec is on).
import protos from '@temporalio/proto';

type History = protos.temporal.api.history.v1.IHistory;
const HistoryMessage = protos.temporal.api.history.v1.History;

export function encodeHistory(history: History): Uint8Array {
  return HistoryMessage.encode(history).finish();
}

export function decodeHistory(bytes: Uint8Array): History {
  return HistoryMessage.decode(bytes);
}

/** The run a history records and when it started, from its first event; null for an empty history. */
export function startOf(history: History): { runId: string; startedAt: number } | null {
  const first = history.events?.[0];
  const runId = first?.workflowExecutionStartedEventAttributes?.originalExecutionRunId;
  if (!first || !runId) return null;
  const time = first.eventTime;
  return { runId, startedAt: Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6) };
}
