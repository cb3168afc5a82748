import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { simpleParser, type ParsedMail } from 'mailparser';
import { parseConfig, type Config } from '../../config.js';
import { startApi, type RunningApi } from '../../api/server.js';
import { startMailbox, type Mailbox } from '../../embedded/mailbox.js';
import { startDevServer, type DevServer } from '../../embedded/temporal.js';
import { createLogger } from '../../logger.js';
import { createRunbookWorker } from '../../worker.js';
import { dataConverterOptions, loadCodecKeys } from '../../security/payload-codec.js';
import { freePort } from './ports.js';

export const operatorKey = 'test-operator-key-0123456789';
export const auditorKey = 'test-auditor-key-0123456789a';
/** The Temporal Web UI origin the test API allows to call its codec endpoint. */
export const webUiOrigin = 'http://localhost:18233';

export interface Stack {
  config: Config;
  api: RunningApi;
  client: Client;
  mail: ParsedMail[];
  logs: string[];
  dataDir: string;
  /** fetch against the API with an operator key (or `key`). */
  call(method: string, path: string, body?: unknown, key?: string | null): Promise<Response>;
  waitForMail(predicate: (mail: ParsedMail) => boolean, timeoutMs?: number): Promise<ParsedMail>;
  stop(): Promise<void>;
}

/**
 * The whole system on loopback, as the embedded run starts it: a Temporal dev server on a temp
 * SQLite file, a real SMTP mailbox, a worker and the API on free ports. Logs are captured.
 */
export async function startStack(): Promise<Stack> {
  const undo: (() => Promise<unknown>)[] = [];
  try {
    return await startStackParts(undo);
  } catch (error) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw error;
  }
}

async function startStackParts(undo: (() => Promise<unknown>)[]): Promise<Stack> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'msp-runbooks-'));
  undo.push(() => rm(dataDir, { recursive: true, force: true }));
  const mail: ParsedMail[] = [];
  const mailbox: Mailbox = await startMailbox(path.join(dataDir, 'mailbox'), {
    onMessage: (raw) => void simpleParser(raw).then((parsed) => mail.push(parsed)),
  });
  undo.push(() => mailbox.close());
  const temporalPort = await freePort();
  const temporal: DevServer = await startDevServer({
    dbFile: path.join(dataDir, 'temporal.sqlite'),
    port: temporalPort,
    namespace: 'default',
    retentionDays: 1,
    logFile: path.join(dataDir, 'temporal.log'),
  });
  undo.push(() => temporal.stop());
  const apiPort = await freePort();
  const config = parseConfig({
    PORT: String(apiPort),
    PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
    TEMPORAL_ADDRESS: temporal.address,
    TASK_QUEUE: `test-${temporalPort}`,
    DATA_DIR: dataDir,
    SMTP_URL: mailbox.url,
    API_KEYS: `ops:operator:${operatorKey},audit:auditor:${auditorKey}`,
    LOG_LEVEL: 'info',
    WEB_UI_ORIGIN: webUiOrigin,
  });
  const logs: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void logs.push(line) });
  const api = await startApi(config, logger);
  undo.push(() => api.close());
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const worker: Worker = await createRunbookWorker(config, nativeConnection);
  const running = worker.run();
  undo.push(async () => {
    worker.shutdown();
    await running;
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
