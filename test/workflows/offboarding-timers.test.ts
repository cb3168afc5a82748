import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { createFileLedger } from '../../activities/ledger.js';
import { projectRoot } from '../../config.js';
import { createFilesystemDocumentStore } from '../../connectors/documents/filesystem.js';
import { createSmtpMailer } from '../../connectors/mail/smtp.js';
import type { TransitionState } from '../../domain/definitions.js';
import { startMailbox, type Mailbox } from '../../embedded/mailbox.js';
import { registerSearchAttributes, temporalTestServer } from '../../embedded/temporal.js';
import { createTemplateRenderer } from '../../templates/render.js';
import { workflowsPath } from '../../worker.js';
import { offboardingRequest } from '../factories.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundle;
let dataDir: string;
let mailbox: Mailbox;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServer() } },
  });
  await registerSearchAttributes(env.connection, 'default');
  bundle = await bundleWorkflowCode({ workflowsPath });
  dataDir = await mkdtemp(path.join(tmpdir(), 'msp-timers-'));
  mailbox = await startMailbox(path.join(dataDir, 'mailbox'));
});

afterAll(async () => {
  await env?.teardown();
  await mailbox?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function documents() {
  return createFilesystemDocumentStore(path.join(dataDir, 'documents'));
}

async function withWorker<T>(taskQueue: string, run: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: createActivities({
      documents: documents(),
      mailer: createSmtpMailer(mailbox.url, 'runbooks@msp.example'),
      templates: createTemplateRenderer(path.join(projectRoot, 'templates')),
      ledger: createFileLedger(path.join(dataDir, 'ledger')),
      publicUrl: 'http://runbooks.test',
      linkSecret: randomBytes(32),
    }),
  });
  return worker.runUntil(run);
}

const day = 24 * 3600 * 1000;

// Updates (extend, legal hold) are tested on the dev server (test/integration): the time-skipping
// server loses an update's outcome while it skips time.
describe('offboarding timers on the time-skipping server', () => {
  it('waits P30D, P60D and P90D and completes in seconds, deleting only after deletionDueAt', async () => {
    const request = offboardingRequest();
    const started = Date.now();
    const state = (await withWorker('timers-1', () =>
      env.client.workflow.execute('offboardingWorkflow', {
        taskQueue: 'timers-1',
        workflowId: `offboarding-${request.client.id}`,
        args: [request],
      }),
    )) as TransitionState;
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(state.status).toBe('completed');
    const notice = Date.parse(request.terms.noticeReceivedAt);
    expect(Date.parse(state.dates.cutoverAt!) - notice).toBe(30 * day);
    expect(Date.parse(state.dates.assistanceEndsAt!) - notice).toBe(60 * day);
    expect(Date.parse(state.dates.deletionDueAt!) - notice).toBe(150 * day);
    const deletion = state.steps.find((step) => step.key === 'retention-deletion')!;
    expect(Date.parse(deletion.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(state.dates.deletionDueAt!));
    const docs = await documents().list(state.id);
    expect(docs.map((doc) => doc.step)).toEqual(state.steps.map((step) => step.key));
  });
});
