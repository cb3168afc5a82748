// The scale bench: offboardings of 100, 1,000 and 10,000 devices (the largest with 500 credentials and
// 500 data sets too) driven through the API as an operator's script would: the first tasks one at a
// time (8 in flight), the rest in batches of 1,000, every rotated credential put in by the API. How big
// the history grows (events, bytes, the largest payload) and how fast it all goes. On loopback (the
// test stack), bounded: `npm run bench`, never part of `npm test`.
import { fetchHistoryInPages } from '../audit/history-pages.js';
import protos from '@temporalio/proto';
import type { TaskPage, TaskState, TransitionState } from '../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../test/factories.js';
import { percentile } from '../test/support/many-approvers.js';
import { operatorKey, startStack, validatorKey, type Stack } from '../test/support/stack.js';
import { report, type Row } from './report.js';

interface Size {
  devices: number;
  credentials: number;
  dataSets: number;
  /** Every task completed with the longest evidence the API takes, not a few words. */
  longestEvidence?: boolean;
}

const runs: Size[] = process.env.SCALE_ONLY
  ? [JSON.parse(process.env.SCALE_ONLY) as Size]
  : [
      { devices: 100, credentials: 0, dataSets: 0 },
      { devices: 1_000, credentials: 0, dataSets: 0 },
      { devices: 10_000, credentials: 500, dataSets: 500 },
      // 10,000 with the longest evidence: ~40 MB of history, and its pack needs more than the 4 GB heap.
      { devices: 3_000, credentials: 0, dataSets: 0, longestEvidence: true },
    ];
/** Tasks completed one call each (the rest go in batches): enough for a p99. */
const singleCompletions = 200;
/** Operators completing tasks at once: under Temporal's 10 in-flight Updates of one workflow. */
const inFlight = 8;
const batchSize = 1_000;

async function ok(response: Response, what: string): Promise<unknown> {
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${what} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function start(stack: Stack, size: Size): Promise<string> {
  const clientId = uniqueClientId('scale');
  const body = offboardingBody({
    clientId,
    client: { id: clientId, name: `Scale ${clientId}`, timezone: 'UTC' },
    terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT1S', retentionPeriod: 'PT1S' },
    scope: {
      devices: Array.from({ length: size.devices }, (_, i) => ({
        id: `dev-${i}`,
        hostname: `dev-${i}.scale.example`,
        type: 'workstation',
        agents: ['rmm', 'backup'],
      })),
      credentials: Array.from({ length: size.credentials }, (_, i) => ({
        id: `cred-${i}`,
        system: 'Active Directory',
        account: `svc-${i}`,
      })),
      dataSets: Array.from({ length: size.dataSets }, (_, i) => ({
        id: `set-${i}`,
        description: `Share ${i}`,
      })),
      backupJobs: [],
    },
    approvalSteps: [],
  });
  await ok(await stack.call('POST', '/v1/transitions', body), 'start');
  return `offboarding-${clientId}`;
}

/** Runs `work` over `items`, `parallel` at a time. */
async function each<T>(items: T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function openTasks(stack: Stack, id: string): Promise<TaskState[]> {
  const tasks: TaskState[] = [];
  let cursor: string | null = null;
  do {
    const page = (await ok(
      await stack.call(
        'GET',
        `/v1/transitions/${id}/tasks?status=open&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      ),
      'tasks',
    )) as TaskPage;
    tasks.push(...page.tasks);
    cursor = page.nextCursor;
  } while (cursor);
  return tasks;
}

/** A deletion's validation is a second person's (the validator's key) and says what they checked. */
const validating = (task: TaskState) => task.evidenceNeeded === 'validation';
/** The most evidence the API takes for one task: 2,000 characters of text, a 500-character URL, 3 fields of 150. */
const longest = (task: TaskState) => ({
  text: `${task.id}: ${'evidence '.repeat(250)}`.slice(0, 2_000),
  url: `https://rmm.example/${'x'.repeat(480)}`,
  method: 'm'.repeat(150),
  tool: 't'.repeat(150),
  verification: 'v'.repeat(150),
});
const evidenceOf = (task: TaskState, size: Size) => ({
  ...(size.longestEvidence ? longest(task) : { text: 'done, verified' }),
  ...(validating(task)
    ? { text: 'checked again', validation: { verificationMethod: 'listing', verificationResult: 'passed' } }
    : {}),
});

/** The sizes of every payload (input, result, update, signal) anywhere in an event. */
function payloadSizes(value: unknown, found: number[] = []): number[] {
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return found;
  if ('data' in value && value.data instanceof Uint8Array && 'metadata' in value)
    found.push(value.data.length);
  else for (const child of Object.values(value)) payloadSizes(child, found);
  return found;
}

/**
 * Runs `work` while asking the API's /healthz every 50 ms, one at a time: the slowest answer says how
 * long the API left everyone else waiting meanwhile (a pack of thousands of documents is long work).
 */
async function whileWatchingHealth<T>(stack: Stack, work: () => Promise<T>) {
  let done = false;
  let worstMillis = 0;
  const watching = (async () => {
    while (!done) {
      const startedAt = performance.now();
      await (await fetch(`${stack.api.url}/healthz`)).arrayBuffer();
      worstMillis = Math.max(worstMillis, performance.now() - startedAt);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    return { result: await work(), worstMillis };
  } finally {
    done = true;
    await watching;
  }
}

/** Drives one offboarding to its end; the times of each kind of call. */
async function drive(stack: Stack, id: string, size: Size) {
  const single: number[] = [];
  const batches: number[] = [];
  let lastTaskAt = 0;
  for (;;) {
    const state = (await ok(await stack.call('GET', `/v1/transitions/${id}`), 'state')) as TransitionState;
    if (state.status !== 'running') return { state, single, batches, lastTaskAt };
    const awaiting = state.credentials.filter((credential) => credential.status === 'awaiting');
    await each(awaiting, inFlight, async (credential) => {
      await ok(
        await stack.call('POST', `/v1/transitions/${id}/credentials/${credential.id}`, {
          secret: `new-${credential.id}-S3cret!`,
        }),
        'credential',
      );
    });
    const all = state.taskCounts?.open ? await openTasks(stack, id) : [];
    const validations = all.filter(validating);
    const open = all.filter((task) => !validating(task));
    const one = open.splice(0, Math.max(0, singleCompletions - single.length));
    await each(one, inFlight, async (task) => {
      const startedAt = performance.now();
      await ok(
        await stack.call('POST', `/v1/transitions/${id}/tasks/${task.id}/complete`, {
          evidence: evidenceOf(task, size),
        }),
        task.id,
      );
      single.push(performance.now() - startedAt);
    });
    for (const [tasks, key] of [
      [open, operatorKey],
      [validations, validatorKey],
    ] as const) {
      for (let i = 0; i < tasks.length; i += batchSize) {
        const startedAt = performance.now();
        const items = tasks
          .slice(i, i + batchSize)
          .map((task) => ({ taskId: task.id, evidence: evidenceOf(task, size) }));
        await ok(await stack.call('POST', `/v1/transitions/${id}/tasks/complete`, { items }, key), 'batch');
        batches.push(performance.now() - startedAt);
      }
    }
    open.push(...validations);
    if (one.length || open.length) lastTaskAt = performance.now();
    if (!awaiting.length && !one.length && !open.length)
      await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const stack = await startStack();
const rows: Row[] = [];
try {
  for (const size of runs) {
    const startedAt = performance.now();
    const id = await start(stack, size);
    const { state, single, batches, lastTaskAt } = await drive(stack, id, size);
    const doneAt = performance.now();
    if (state.status !== 'completed') throw new Error(`${id} ended ${state.status}: ${state.outcome}`);
    // A run whose history grew past its budget continued as new: every workflow run of it counts.
    const histories = [];
    for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${id}'` }))
      histories.push(await fetchHistoryInPages(stack.client, { transitionId: id, runId: run.runId }));
    const events = histories.flatMap((history) => history.events ?? []);
    const bytes = histories.map(
      (history) => protos.temporal.api.history.v1.History.encode(history).finish().length,
    );
    const audit = await stack.call('GET', `/v1/transitions/${id}/audit`);
    const { result: pack, worstMillis } = await whileWatchingHealth(stack, () =>
      stack.call('GET', `/v1/transitions/${id}/pack`),
    );
    rows.push({
      'devices / credentials / data sets': `${size.devices} / ${size.credentials} / ${size.dataSets}${size.longestEvidence ? ', longest evidence' : ''}`,
      'workflow runs': histories.length,
      'history events (all runs; largest run)': `${events.length}; ${Math.max(...histories.map((history) => history.events?.length ?? 0))}`,
      'history bytes (all runs; largest run)': `${bytes.reduce((sum, size) => sum + size, 0)}; ${Math.max(...bytes)}`,
      'largest payload (bytes)': Math.max(...events.flatMap((event) => payloadSizes(event))),
      'single task p50 / p99 (ms)': `${Math.round(percentile(single, 50))} / ${Math.round(percentile(single, 99))}`,
      'batch of 1,000 p50 (ms)': batches.length ? Math.round(percentile(batches, 50)) : '—',
      'last task to done (ms)': Math.round(doneAt - lastTaskAt),
      'start to done (s)': Math.round((doneAt - startedAt) / 100) / 10,
      'audit / pack': `${audit.status} / ${pack.status}`,
      '/healthz worst while the pack builds (ms)': Math.round(worstMillis),
    });
    await audit.arrayBuffer();
    await pack.arrayBuffer();
    console.log(JSON.stringify(rows.at(-1)));
    if (audit.status !== 200 || pack.status !== 200) throw new Error(`${id}: the audit or the pack failed`);
  }
} catch (error) {
  console.error('the scale bench failed:', error);
  console.error(
    stack.logs
      .filter((line) => /"level":(40|50)/.test(line))
      .slice(-10)
      .join(''),
  );
  process.exitCode = 1;
} finally {
  await stack.stop();
}
if (!process.exitCode) await report('scale', rows, null);
