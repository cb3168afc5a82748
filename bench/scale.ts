// The scale bench (issue 15): an onboarding of many devices driven through the API. How big its
// history grows (events, bytes, the largest payload) and how fast each device's task is completed.
// On loopback (the test stack), bounded: `npm run bench`, never part of `npm test`.
import protos from '@temporalio/proto';
import type { TransitionState } from '../domain/definitions.js';
import { limits } from '../domain/schemas.js';
import { uniqueClientId } from '../test/factories.js';
import { percentile } from '../test/support/many-approvers.js';
import { startStack, waitForState, type Stack } from '../test/support/stack.js';
import { report, type Row } from './report.js';

/** 1,000 devices is what issue 15 asks; a request holds at most `limits.assets` (500) today. */
const sizes = [100, limits.assets];
/** Operators completing tasks at once: under Temporal's 10 in-flight Updates of one workflow. */
const completingAtOnce = 8;

/** Starts an onboarding whose only work is one agent-deployment task per device. */
async function startOnboarding(stack: Stack, devices: number): Promise<string> {
  const clientId = uniqueClientId('scale');
  const response = await stack.call('POST', '/v1/transitions', {
    kind: 'onboarding',
    client: { id: clientId, name: `Scale ${clientId}`, timezone: 'UTC' },
    requestedBy: 'ops@msp.example',
    contacts: {
      approvers: [{ name: 'Riley Chen', email: 'riley@scale.example' }],
      operators: [{ name: 'MSP Ops', email: 'ops@msp.example' }],
    },
    scope: {
      devices: Array.from({ length: devices }, (_, i) => ({
        id: `dev-${i + 1}`,
        hostname: `dev-${i + 1}.scale.local`,
        type: 'workstation',
        agents: ['rmm'],
      })),
      credentials: [],
      backupJobs: [],
    },
    approvalSteps: [],
  });
  if (response.status !== 201) throw new Error(`start answered ${response.status}: ${await response.text()}`);
  return `onboarding-${clientId}`;
}

/** Completes every task through the API, `completingAtOnce` at a time; each call's time. */
async function completeAll(stack: Stack, id: string, taskIds: string[]): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  async function operator() {
    while (next < taskIds.length) {
      const taskId = taskIds[next++]!;
      const startedAt = performance.now();
      const response = await stack.call('POST', `/v1/transitions/${id}/tasks/${taskId}/complete`, {
        evidence: { text: 'agent checked in' },
      });
      await response.text();
      if (response.status !== 200) throw new Error(`completing ${taskId} answered ${response.status}`);
      times.push(performance.now() - startedAt);
    }
  }
  await Promise.all(Array.from({ length: completingAtOnce }, operator));
  return times;
}

/** The sizes of every payload (input, result, update, signal) anywhere in an event. */
function payloadSizes(value: unknown, found: number[] = []): number[] {
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return found;
  if ('data' in value && value.data instanceof Uint8Array && 'metadata' in value)
    found.push(value.data.length);
  else for (const child of Object.values(value)) payloadSizes(child, found);
  return found;
}

const stack = await startStack();
const rows: Row[] = [];
try {
  for (const devices of sizes) {
    const id = await startOnboarding(stack, devices);
    const open = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.tasks.filter((task) => task.status === 'open').length === devices,
      120_000,
    );
    const times = await completeAll(
      stack,
      id,
      open.tasks.map((task) => task.id),
    );
    await waitForState<TransitionState>(stack, id, (state) => state.status !== 'running', 120_000);
    const history = await stack.client.workflow.getHandle(id).fetchHistory();
    const events = history.events ?? [];
    rows.push({
      devices,
      'history events': events.length,
      'history bytes': protos.temporal.api.history.v1.History.encode(history).finish().length,
      'largest payload (bytes)': Math.max(...events.flatMap((event) => payloadSizes(event))),
      'task completion p50 (ms)': Math.round(percentile(times, 50)),
      'task completion p99 (ms)': Math.round(percentile(times, 99)),
    });
  }
} finally {
  await stack.stop();
}
await report('scale', rows, null);
