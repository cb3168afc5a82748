// Workflows on Temporal's time-skipping test server, with the real activities: the project-local test
// server binary, the workflows bundled once per test file, a worker per test on its own task queue,
// documents on the filesystem, a real SMTP mailbox and the file ledger, payloads under the codec.
//
// Time skips only while a client awaits a result (or on `env.sleep`), and an Update sent while a
// result is awaited can lose its outcome: send Updates while nothing awaits a result, skip time with
// `env.sleep`, and await the result last.
import { runReader } from '../../worker/run-reader.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { createFileLedger } from '../../activities/ledger.js';
import { projectRoot } from '../../config/config.js';
import type { DocumentFormat, DocumentMeta, DocumentStore } from '../../connectors/documents/port.js';
import { createFilesystemDocumentStore } from '../../connectors/documents/filesystem.js';
import { createSmtpMailer } from '../../connectors/mail/smtp.js';
import {
  approvalLinkQuery,
  completeTaskUpdate,
  credentialLinkQuery,
  decideUpdate,
  stateQuery,
  tasksQuery,
  type Decision,
  type Evidence,
  type TaskPageRequest,
  type TaskState,
} from '../../domain/definitions.js';
import { readMailbox, startMailbox, type Mailbox } from '../../embedded/mailbox.js';
import { registerSearchAttributes, temporalTestServer } from '../../embedded/temporal.js';
import { sha256Hex } from '../../security/links.js';
import { dataConverterOptions, failureConverterPath, loadCodecKeys } from '../../security/payload-codec.js';
import { createTemplateRenderer } from '../../templates/render.js';
import {
  runbookInterceptors,
  workflowInterceptorModules,
  workflowsPath as realWorkflowsPath,
} from '../../worker/runbook-worker.js';
import { offboardingRequest } from '../factories.js';
import { linkIn } from './links.js';
import { refusing } from './refusing-mailer.js';

/** An email the worker sent, at the (skipped) server time its activity was scheduled. */
export interface SentMail {
  key: string;
  to: string[];
  at: number;
}

export interface WorkflowEnvOptions {
  /** The workflows to bundle: the worker's own by default. */
  workflowsPath?: string;
  /** Names the temporary data folder. */
  name?: string;
  /** The worker's log level: 'ERROR' for a file whose activities fail on purpose hundreds of times. */
  logLevel?: 'WARN' | 'ERROR';
}

export interface WorkflowEnv {
  /** The time-skipping environment; set once the file's `beforeAll` ran. */
  readonly env: TestWorkflowEnvironment;
  readonly dataDir: string;
  /** The store the activities write the step documents to. */
  documents(): DocumentStore;
  /**
   * Runs `run` while a worker with the real activities polls `taskQueue`; `sent` lists the mails as
   * they leave. With `refuseMail`, the mail server refuses mail to `refusedDomain` while it says so.
   */
  withWorker<T>(
    taskQueue: string,
    run: (sent: SentMail[]) => Promise<T>,
    options?: {
      refuseMail?: () => boolean;
      /** Awaited before each slice of a stored checkpoint is read: holds a resuming run there. */
      beforeCheckpointSlice?: () => Promise<void>;
    },
  ): Promise<T>;
  /** An offboarding request whose notice arrives now on the test server's clock (earlier tests moved it ahead). */
  requestNow(
    overrides?: Parameters<typeof offboardingRequest>[0],
  ): Promise<ReturnType<typeof offboardingRequest>>;
  /** Every mail the mailbox received, newest first. */
  mails(): Promise<ParsedMail[]>;
  subjects(): Promise<string[]>;
  /** Waits for a mail with exactly this subject (to `to`, when given). */
  mailWithSubject(subject: string, to?: string): Promise<ParsedMail>;
  /** The documents a workflow's run wrote (the run the handle started), in chain order. */
  documentsOf(handle: WorkflowHandle): Promise<DocumentMeta[]>;
  /** One document of that run, as stored (Markdown by default). */
  documentText(handle: WorkflowHandle, documentId: string, format?: DocumentFormat): Promise<string>;
}

/**
 * Registers the file's `beforeAll` (time-skipping server, bundle, mailbox) and `afterAll`, and returns
 * the environment they set up. Call it at the top level of a test file.
 */
export function useWorkflowEnv(options: WorkflowEnvOptions = {}): WorkflowEnv {
  let env: TestWorkflowEnvironment | undefined;
  let bundle: WorkflowBundle;
  let dataDir: string | undefined;
  let mailbox: Mailbox | undefined;
  let dataConverter: ReturnType<typeof dataConverterOptions>;

  // Payloads are encrypted here as in production: the client and the worker share the codec.
  beforeAll(async () => {
    quietRuntime(options.logLevel ?? 'WARN');
    dataDir = await mkdtemp(path.join(tmpdir(), `msp-${options.name ?? 'workflows'}-`));
    dataConverter = dataConverterOptions(await loadCodecKeys(dataDir));
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: temporalTestServer() } },
      client: { dataConverter },
    });
    await registerSearchAttributes(env.connection, 'default');
    bundle = await bundleWorkflowCode({
      workflowsPath: options.workflowsPath ?? realWorkflowsPath,
      workflowInterceptorModules,
      failureConverterPath,
      logger: new DefaultLogger('WARN'),
    });
    mailbox = await startMailbox(path.join(dataDir, 'mailbox'));
  });

  afterAll(async () => {
    await env?.teardown();
    await mailbox?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const ready = () => {
    if (!env || !dataDir || !mailbox) throw new Error('the workflow environment is not started yet');
    return { env, dataDir, mailbox };
  };
  const documents = () => createFilesystemDocumentStore(path.join(ready().dataDir, 'documents'));
  const mails = async () =>
    (await readMailbox(path.join(ready().dataDir, 'mailbox'))).map((message) => message.mail);
  /** The run a handle started (a started handle knows it; another asks the server for the latest). */
  const runOf = async (handle: WorkflowHandle) => ({
    transitionId: handle.workflowId,
    runId:
      'firstExecutionRunId' in handle && typeof handle.firstExecutionRunId === 'string'
        ? handle.firstExecutionRunId
        : (await handle.describe()).runId,
  });

  return {
    get env() {
      return ready().env;
    },
    get dataDir() {
      return ready().dataDir;
    },
    documents,

    async withWorker(taskQueue, run, options = {}) {
      const { env, dataDir, mailbox } = ready();
      const mailer = createSmtpMailer(mailbox.url, 'runbooks@msp.example');
      const activities = createActivities({
        documents: documents(),
        mailer: options.refuseMail ? refusing(mailer, options.refuseMail) : mailer,
        templates: createTemplateRenderer(path.join(projectRoot, 'templates')),
        ledger: createFileLedger(path.join(dataDir, 'ledger')),
        publicUrl: 'http://runbooks.test',
        msp: { name: 'Test MSP' },
        linkSecrets: [{ id: 'l1', key: randomBytes(32) }],
        ...runReader(env.client),
        listRuns: async () => [],
      });
      const sent: SentMail[] = [];
      const scheduledAt = () => Context.current().info.scheduledTimestampMs;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: bundle,
        dataConverter,
        interceptors: { activity: runbookInterceptors.activity },
        // The real activities (real SMTP, real files); the wrapper only notes when each mail left.
        activities: {
          ...activities,
          sendEmail: async (input: Parameters<typeof activities.sendEmail>[0]) => {
            sent.push({ key: input.idempotencyKey, to: input.to, at: scheduledAt() });
            return activities.sendEmail(input);
          },
          readCheckpointSlice: async (input: Parameters<typeof activities.readCheckpointSlice>[0]) => {
            await options.beforeCheckpointSlice?.();
            return activities.readCheckpointSlice(input);
          },
          sendLinks: async (input: Parameters<typeof activities.sendLinks>[0]) => {
            sent.push({
              key: `${input.requestId}:${input.round}`,
              to: input.approvers.map((person) => person.email),
              at: scheduledAt(),
            });
            return activities.sendLinks(input);
          },
        },
      });
      return worker.runUntil(() => run(sent));
    },

    async requestNow(overrides = {}) {
      const now = new Date(await ready().env.currentTimeMs()).toISOString();
      const terms = (overrides.terms ?? {}) as Record<string, unknown>;
      return offboardingRequest({ ...overrides, terms: { ...terms, noticeReceivedAt: now } });
    },

    mails,
    async subjects() {
      return (await mails()).map((mail) => mail.subject ?? '');
    },
    async mailWithSubject(subject, to) {
      return waitFor(async () =>
        (await mails()).find(
          (mail) => mail.subject === subject && (to === undefined || addressesOf(mail).includes(to)),
        ),
      );
    },

    async documentsOf(handle) {
      return documents().list(await runOf(handle));
    },
    async documentText(handle, documentId, format = 'md') {
      const bytes = await documents().read(await runOf(handle), documentId, format);
      if (!bytes) throw new Error(`no document ${documentId} (${format}) of ${handle.workflowId}`);
      return bytes.toString('utf8');
    },
  };
}

/**
 * Workers log each start and stop at INFO, and the test server lacks a capability core warns about
 * for every worker: only warnings of the SDK and errors of core reach the test output. Each test file
 * runs in its own process, where the runtime is not yet created.
 */
function quietRuntime(level: 'WARN' | 'ERROR'): void {
  try {
    Runtime.install({
      logger: new DefaultLogger(level),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // Already created in this process (another environment came first): keep its logging.
  }
}

/** The addresses a mail went to. */
export function addressesOf(mail: ParsedMail): string[] {
  const to = mail.to ? (Array.isArray(mail.to) ? mail.to : [mail.to]) : [];
  return to.flatMap((address) => address.value.map((entry) => entry.address ?? ''));
}

/** The SHA-256 of the token in a mail's personal link, as the API's link pages hand it to the workflow. */
export function tokenHashIn(mail: ParsedMail, kind: 'approvals' | 'intake' | 'reveal'): string {
  return sha256Hex(linkIn(mail, kind).split('/').pop()!);
}

/**
 * The SHA-256 of the token in a mail's link, once the workflow knows it. The mail leaves inside the
 * activity, a moment before the workflow records the link's hash; the link pages ask until it does
 * (api/link-pages.ts), and so does this.
 */
export async function knownTokenHash(
  handle: WorkflowHandle,
  mail: ParsedMail,
  kind: 'approvals' | 'intake' | 'reveal',
): Promise<string> {
  const tokenHash = tokenHashIn(mail, kind);
  const known = async () =>
    kind === 'approvals'
      ? (await handle.query(approvalLinkQuery, tokenHash)) !== null
      : (await handle.query(credentialLinkQuery, tokenHash)) !== null;
  await waitFor(async () => ((await known()) ? true : undefined));
  return tokenHash;
}

/** Decides through the approval link in `mail`, as the approval page does when its button is pressed. */
export async function decideByMail(
  handle: WorkflowHandle,
  mail: ParsedMail,
  decision: Decision,
  comment = '',
) {
  const tokenHash = await knownTokenHash(handle, mail, 'approvals');
  return handle.executeUpdate(decideUpdate, {
    args: [{ tokenHash, decision, comment, ip: '203.0.113.7', userAgent: 'vitest' }],
  });
}

/** Every task of a run, page by page, as the tasks endpoint reads them (the state lists open ones only). */
export async function allTasks(
  handle: WorkflowHandle,
  request: Omit<TaskPageRequest, 'cursor' | 'limit'> = {},
) {
  const tasks: TaskState[] = [];
  let cursor: string | undefined;
  do {
    const page = await handle.query(tasksQuery, { ...request, cursor, limit: 1_000 });
    tasks.push(...page.tasks);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return tasks;
}

/** Waits for an open task to appear, then completes it as an operator would. */
export async function finishTask(handle: WorkflowHandle, taskId: string, evidence: Evidence, actor = 'ops') {
  await waitFor(async () => {
    const state = await handle.query(stateQuery);
    return state.tasks.some((task) => task.id === taskId && task.status === 'open') || undefined;
  });
  return handle.executeUpdate(completeTaskUpdate, { args: [{ actor, taskId, evidence }] });
}

/** Polls `find` every 50 ms until it returns something other than undefined. */
export async function waitFor<T>(
  find: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
