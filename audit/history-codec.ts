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
