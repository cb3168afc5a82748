// The overhead bench: a whole offboarding (started through the API, no approvals, no assets, PT1S periods)
// against a bare workflow with the same activities and timers on the same dev server, alone and 20
// at once, in one run. Wall time and CPU (this process: API, worker, bench; plus the Temporal dev
// server) of each batch, and their ratios. On loopback: `npm run bench`, never part of `npm test`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { TransitionState } from '../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../test/factories.js';
import { startStack, type Stack } from '../test/support/stack.js';
import { dataConverterOptions, loadCodecKeys } from '../security/payload-codec.js';
import { report, type Row } from './report.js';

const concurrency = [1, 20];
const bareQueue = 'bench-bare';

/** CPU seconds of this process and of the dev server, from /proc (Linux). */
function cpuSeconds(stack: Stack): number {
  const own = process.cpuUsage();
  const fields = readFileSync(`/proc/${stack.temporalProcess().pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (own.user + own.system) / 1e6 + ticks / 100;
}

async function offboarding(stack: Stack): Promise<string> {
  const clientId = uniqueClientId('overhead');
  const body = offboardingBody({
    clientId,
    terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT1S', retentionPeriod: 'PT1S' },
    approvalSteps: [],
  });
  const response = await stack.call('POST', '/v1/transitions', body);
  if (response.status !== 201) throw new Error(`start answered ${response.status}: ${await response.text()}`);
  const id = `offboarding-${clientId}`;
  // Awaited as the bare workflow is (the client's long poll), not by polling the state.
  const state = (await stack.client.workflow.getHandle(id).result()) as TransitionState;
  if (state.status !== 'completed') throw new Error(`${id} ended ${state.status}`);
  return id;
}

/** What the offboarding did to Temporal: its activities and timers, counted in its history. */
async function shapeOf(stack: Stack, id: string) {
  const events = (await stack.client.workflow.getHandle(id).fetchHistory()).events ?? [];
  const timers = events.flatMap((event) => {
    const timeout = event.timerStartedEventAttributes?.startToFireTimeout;
    return timeout ? [Number(timeout.seconds ?? 0) * 1000 + Math.round((timeout.nanos ?? 0) / 1e6)] : [];
  });
  return {
    activities: events.filter((event) => event.activityTaskScheduledEventAttributes).length,
    timerMillis: timers,
  };
}

async function measure(stack: Stack, count: number, run: () => Promise<unknown>) {
  const cpuBefore = cpuSeconds(stack);
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: count }, run));
  return { wall: (performance.now() - startedAt) / 1000, cpu: cpuSeconds(stack) - cpuBefore };
}

const stack = await startStack();
const connection = await NativeConnection.connect({ address: stack.config.temporal.address! });
const bare = await Worker.create({
  connection,
  taskQueue: bareQueue,
  // The same codec as the stack's client and worker: payloads are encrypted for both alike.
  dataConverter: dataConverterOptions(await loadCodecKeys(stack.dataDir)),
  workflowsPath: path.join(path.dirname(fileURLToPath(import.meta.url)), 'bare-workflow.ts'),
  activities: { step: async () => undefined },
});
const rows: Row[] = [];
const raw: unknown[] = [];
await bare.runUntil(async () => {
  // One offboarding first: its history gives the bare workflow its shape, and warms both up.
  const shape = await shapeOf(stack, await offboarding(stack));
  const bareRun = () =>
    stack.client.workflow.execute('bareWorkflow', {
      taskQueue: bareQueue,
      workflowId: uniqueClientId('bare'),
      args: [shape],
    });
  await bareRun();
  for (const count of concurrency) {
    const full = await measure(stack, count, () => offboarding(stack));
    const yardstick = await measure(stack, count, bareRun);
    raw.push({ count, shape, full, bare: yardstick });
    rows.push({
      'at once': count,
      'activities / timers': `${shape.activities} / ${shape.timerMillis.length}`,
      'offboarding wall / CPU (s)': `${full.wall.toFixed(1)} / ${full.cpu.toFixed(1)}`,
      'bare wall / CPU (s)': `${yardstick.wall.toFixed(1)} / ${yardstick.cpu.toFixed(1)}`,
      'wall ratio': (full.wall / yardstick.wall).toFixed(2),
      'CPU ratio': (full.cpu / yardstick.cpu).toFixed(2),
    });
    console.log(JSON.stringify(rows.at(-1)));
  }
});
await connection.close();
await stack.stop();
await report('overhead', rows, raw);
