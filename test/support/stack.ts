import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { simpleParser, type ParsedMail } from 'mailparser';
import { parseConfig, type Config } from '../../config/config.js';
import { startApi, type RunningApi } from '../../api/server.js';
import { startMailbox, type Mailbox } from '../../embedded/mailbox.js';
import { startDevServer, type DevServer, type DevServerOptions } from '../../embedded/temporal.js';
import { createLogger } from '../../config/logger.js';
import { createRunbookWorker } from '../../worker/runbook-worker.js';
import { openStores } from '../../connectors/stores.js';
import { dataConverterOptions, loadCodecKeys } from '../../security/payload-codec.js';
import { freePort } from './ports.js';

export const operatorKey = 'test-operator-key-0123456789';
export const auditorKey = 'test-auditor-key-0123456789a';
/** A second operator, another person: who validates a deletion the first one performed. */
export const validatorKey = 'test-validator-key-0123456789';
/** The Temporal Web UI origin the test API allows to call its codec endpoint. */
export const webUiOrigin = 'http://localhost:18233';

export interface Stack {
  config: Config;
  api: RunningApi;
  /** The dev server's Web UI, when the stack was started with `{ webUi: true }`. */
  webUiUrl: string | null;
  client: Client;
  mail: ParsedMail[];
  logs: string[];
  dataDir: string;
  /** fetch against the API with an operator key (or `key`). */
  call(method: string, path: string, body?: unknown, key?: string | null): Promise<Response>;
  waitForMail(predicate: (mail: ParsedMail) => boolean, timeoutMs?: number): Promise<ParsedMail>;
  /** The running Temporal dev server's process, to pause it (SIGSTOP) as a hung server would be. */
  /** Stops the worker (it drains) and starts a new one, as a deploy or a crash and restart would. */
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  /** Stops the SMTP server (connections refused) and starts it again on the same port. */
  stopMail(): Promise<void>;
  startMail(): Promise<void>;
  temporalProcess(): ChildProcess;
  /** Stops the Temporal dev server: connections to its port are then refused. */
  stopTemporal(): Promise<void>;
  /** Starts the Temporal dev server again on the same port and SQLite file. */
  startTemporal(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole system on loopback, as the embedded run starts it: a Temporal dev server on a temp
 * SQLite file, a real SMTP mailbox, a worker and the API on free ports. Logs are captured. With
 * `webUi`, the dev server also serves its Web UI with the API's `/codec` as its codec endpoint, and
 * the UI and the API are both on `localhost` (one site), as the embedded run prints them.
 */
export async function startStack(
  env: Record<string, string> = {},
  options: { webUi?: boolean } = {},
): Promise<Stack> {
  const undo: (() => Promise<unknown>)[] = [];
  try {
    return await startStackParts(undo, env, options);
  } catch (error) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw error;
  }
}

async function startStackParts(
  undo: (() => Promise<unknown>)[],
  env: Record<string, string>,
  options: { webUi?: boolean },
): Promise<Stack> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'msp-runbooks-'));
  undo.push(() => rm(dataDir, { recursive: true, force: true }));
  const mail: ParsedMail[] = [];
  const receive = (raw: Buffer) => void simpleParser(raw).then((parsed) => mail.push(parsed));
  let mailbox: Mailbox = await startMailbox(path.join(dataDir, 'mailbox'), { onMessage: receive });
  const mailPort = Number(new URL(mailbox.url).port);
  let mailboxUp = true;
  undo.push(async () => {
    if (mailboxUp) await mailbox.close();
  });
  const temporalPort = await freePort();
  const apiPort = await freePort();
  const uiPort = options.webUi ? await freePort() : undefined;
  const publicUrl = `http://${uiPort ? 'localhost' : '127.0.0.1'}:${apiPort}`;
  const temporalOptions: DevServerOptions = {
    dbFile: path.join(dataDir, 'temporal.sqlite'),
    port: temporalPort,
    uiPort,
    namespace: 'default',
    retentionDays: 1,
    logFile: path.join(dataDir, 'temporal.log'),
    codecEndpoint: uiPort ? `${publicUrl}/codec` : undefined,
  };
  let temporal: DevServer = await startDevServer(temporalOptions);
  undo.push(() => temporal.stop());
  const webUiUrl = uiPort ? `http://localhost:${uiPort}` : null;
  const config = parseConfig({
    PORT: String(apiPort),
    PUBLIC_URL: publicUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TASK_QUEUE: `test-${temporalPort}`,
    DATA_DIR: dataDir,
    SMTP_URL: mailbox.url,
    // The operator keys name their holders, who sign the certificate of deletion: one performs, the other validates.
    API_KEYS: `ops[Alex Kim|Systems engineer]:operator:${operatorKey},audit:auditor:${auditorKey},validator[Morgan Lee|Compliance officer]:operator:${validatorKey}`,
    LOG_LEVEL: 'info',
    WEB_UI_ORIGIN: webUiUrl ?? webUiOrigin,
    // So a test may remind approvers seconds apart.
    MIN_REMINDER_INTERVAL: 'PT1S',
    ...env,
  });
  const logs: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void logs.push(line) });
  const api = await startApi(config, logger);
  undo.push(() => api.close());
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const stores = await openStores(config);
  undo.push(() => stores.close());
  let worker: Worker | null = null;
  let running: Promise<void> = Promise.resolve();
  const startWorker = async () => {
    worker = await createRunbookWorker(config, nativeConnection, stores);
    running = worker.run();
  };
  const stopWorker = async () => {
    worker?.shutdown();
    worker = null;
    await running;
  };
  await startWorker();
  undo.push(async () => {
    await stopWorker();
    await nativeConnection.close();
  });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({
    connection,
    namespace: 'default',
    dataConverter: dataConverterOptions(await loadCodecKeys(dataDir)),
  });

  return {
    config,
    api,
    webUiUrl,
    client,
    mail,
    logs,
    dataDir,
    call(method, route, body, key = operatorKey) {
      return fetch(`${api.url}${route}`, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
    async waitForMail(predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = mail.find(predicate);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(
        `no matching mail within ${timeoutMs} ms; got: ${mail.map((m) => m.subject).join(' | ')}`,
      );
    },
    stopWorker,
    startWorker,
    async stopMail() {
      mailboxUp = false;
      await mailbox.close();
    },
    async startMail() {
      mailbox = await startMailbox(path.join(dataDir, 'mailbox'), { port: mailPort, onMessage: receive });
      mailboxUp = true;
    },
    temporalProcess: () => temporal.process,
    stopTemporal: () => temporal.stop(),
    async startTemporal() {
      temporal = await startDevServer(temporalOptions);
    },
    async stop() {
      await connection.close();
      for (const step of undo.reverse()) await step();
    },
  };
}

/** Polls the transition's state until `predicate` holds. */
export async function waitForState<T>(
  stack: Stack,
  id: string,
  predicate: (state: T) => boolean,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const response = await stack.call('GET', `/v1/transitions/${id}`);
    if (response.ok) {
      last = await response.json();
      if (predicate(last as T)) return last as T;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`state of ${id} did not reach the expected shape: ${JSON.stringify(last)}`);
}
