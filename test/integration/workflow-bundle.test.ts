// Production workers run the workflow code bundled ahead of time (`npm run build:workflows`,
// WORKFLOW_BUNDLE): a transition runs to its end on such a worker, and replays on it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionState } from '../../domain/definitions.js';
import { bundleWorkflows } from '../../scripts/bundle-workflows.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'msp-bundle-'));
  const bundle = path.join(dir, 'workflow-bundle.js');
  await bundleWorkflows(bundle);
  stack = await startStack({ WORKFLOW_BUNDLE: bundle });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a worker on the prebuilt workflow bundle', () => {
  it('runs an offboarding to its end, and a restarted worker (replaying from the bundle) goes on', async () => {
    const clientId = uniqueClientId('bundled');
    const body = offboardingBody({
      clientId,
      terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT1S', retentionPeriod: 'PT1S' },
      scope: {
        devices: [{ id: 'srv-01', hostname: 'srv-01.bundled.example', type: 'server' }],
        credentials: [],
        dataSets: [],
        backupJobs: [],
      },
      approvalSteps: [],
    });
    const id = `offboarding-${clientId}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);
    await waitForState<TransitionState>(stack, id, (state) => state.taskCounts?.open === 1, 60_000);
    // A new worker process picks the run up from its history, on the same bundle.
    await stack.stopWorker();
    await stack.startWorker();
    const answer = await stack.call('POST', `/v1/transitions/${id}/tasks/agent-removal.srv-01/complete`, {
      evidence: { text: 'removed' },
    });
    expect(answer.status).toBe(200);
    const done = await waitForState<TransitionState>(
      stack,
      id,
      (state) => state.status === 'completed',
      60_000,
    );
    expect(done.steps.every((step) => step.status === 'completed')).toBe(true);
  }, 120_000);
});
