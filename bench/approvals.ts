// The approvals bench (issue 15): 50 approvers on one step. How long mailing every link takes, and
// how fast 50 decisions pressed at once are answered through real HTTP, with none lost. Runs on
// loopback (the test stack), a few bounded rounds: `npm run bench`, never part of `npm test`.
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import {
  approvalWithDecisions,
  approveAllAtOnce,
  askManyApprovers,
  percentile,
} from '../test/support/many-approvers.js';
import { startStack } from '../test/support/stack.js';
import { report, type Row } from './report.js';

const approvers = 50;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const millisOf = (event: HistoryEvent) =>
  Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;

/**
 * How long the sendLinks activity ran (started to completed), from the workflow's history. The last
 * mail leaves a moment before the activity's completion is recorded, so this waits for it a while.
 */
async function sendLinksMillis(client: Client, id: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const scheduled = events.find(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'sendLinks',
    );
    const ofScheduled = (attributes: { scheduledEventId?: unknown } | null | undefined) =>
      attributes?.scheduledEventId != null &&
      String(attributes.scheduledEventId) === String(scheduled?.eventId);
    const started = events.find((event) => ofScheduled(event.activityTaskStartedEventAttributes));
    const completed = events.find((event) => ofScheduled(event.activityTaskCompletedEventAttributes));
    if (started && completed) return millisOf(completed) - millisOf(started);
    if (Date.now() > deadline) throw new Error(`no completed sendLinks in the history of ${id}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const stack = await startStack();
const rows: Row[] = [];
const raw: unknown[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    const asked = await askManyApprovers(stack, approvers);
    const sendMs = await sendLinksMillis(stack.client, asked.id);
    const results = await approveAllAtOnce(asked.links);
    const approval = await approvalWithDecisions(stack, asked.id, approvers).catch(() => null);
    const latencies = results.map((result) => result.ms);
    const serverErrors = results.filter((result) => result.status >= 500).length;
    rows.push({
      round,
      'send 50 links (ms)': Math.round(sendMs),
      'start to last mail (ms)': Math.round(asked.mailedInMs),
      'POST p50 (ms)': Math.round(percentile(latencies, 50)),
      'POST p99 (ms)': Math.round(percentile(latencies, 99)),
      'POST max (ms)': Math.round(Math.max(...latencies)),
      '5xx': serverErrors,
      'non-200': results.filter((result) => result.status !== 200).length,
      recorded: `${approval?.decisions.length ?? 'lost'}/${approvers}`,
    });
    raw.push({ id: asked.id, sendMs, mailedInMs: asked.mailedInMs, results });
  }
} finally {
  await stack.stop();
}
await report('approvals', rows, raw);
const failed = rows.some((row) => row['5xx'] !== 0 || row.recorded !== `${approvers}/${approvers}`);
process.exitCode = failed ? 1 : 0;
