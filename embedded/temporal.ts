import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Connection } from '@temporalio/client';
import protos from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time.js';
import { hostPort, reachableHost } from '../config/addresses.js';
import { projectRoot } from '../config/config.js';
import { searchAttributeRegistrations } from '../domain/definitions.js';
import { signalGroup } from './processes.js';
import { spawnSupervised } from './supervised.js';

const localBin = join(projectRoot, '.temporal', 'venv', 'bin');

function onPath(name: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((folder) => join(folder, name))
    .find((candidate) => existsSync(candidate));
}

function resolveBinary(name: string, fromEnv: string | undefined, variable: string): string {
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${variable}: no file at ${fromEnv}`);
    return fromEnv;
  }
  const local = join(localBin, name);
  if (existsSync(local)) return local;
  const found = onPath(name);
  if (found) return found;
  throw new Error(
    `${name} not found: run \`node scripts/prepare.mjs\` (npm run dev and npm test do) or set ${variable}`,
  );
}

/** The Temporal CLI: TEMPORAL_BIN, else the project-local install, else `temporal` on the PATH. */
export function temporalCli(fromEnv = process.env.TEMPORAL_BIN): string {
  return resolveBinary('temporal', fromEnv, 'TEMPORAL_BIN');
}

/** The time-skipping test server, for the SDK's TestWorkflowEnvironment. */
export function temporalTestServer(fromEnv = process.env.TEMPORAL_TEST_SERVER_BIN): string {
  return resolveBinary('temporal-test-server', fromEnv, 'TEMPORAL_TEST_SERVER_BIN');
}

/** Registers the project's search attributes on a server that lacks them (the time-skipping test server). */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const keyword = protos.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(searchAttributeRegistrations.map(({ name }) => [name, keyword])),
  });
}

export interface DevServerOptions {
  /** SQLite file; the server's state survives restarts in it. */
  dbFile: string;
  /** The address the server and its Web UI listen on (default loopback). */
  host?: string;
  port: number;
  uiPort?: number;
  namespace: string;
  /** How long closed workflows stay in history. */
  retentionDays: number;
  logFile: string;
  /** The Web UI's remote codec endpoint, when there is one. */
  codecEndpoint?: string;
  /**
   * Run as a child of the embedded run's supervisor (see supervised.ts): in its own process group,
   * through a tether that stops the server when the supervisor dies.
   */
  supervised?: boolean;
  /** Called as soon as the process exists, before the server answers, so a supervisor can stop it. */
  onSpawn?: (process: ChildProcess) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Waits until a Temporal frontend answers on `address`, or throws after `timeoutMs`. */
export async function waitForTemporal(
  address: string,
  timeoutMs: number,
  isAlive: () => boolean = () => true,
) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('the Temporal dev server exited while starting');
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.healthService.check({});
      return connection;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/**
 * Starts `temporal server start-dev` persisting to SQLite in WAL mode (a crashed process loses no
 * committed write; synchronous=NORMAL avoids an fsync per commit), with the project's search
 * attributes registered and the namespace's retention set.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const host = options.host ?? '127.0.0.1';
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    options.dbFile,
    '--ip',
    host,
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    '--sqlite-pragma',
    'busy_timeout=5000',
    '--log-level',
    'warn',
    ...searchAttributeRegistrations.flatMap(({ name, type }) => ['--search-attribute', `${name}=${type}`]),
    ...(options.uiPort ? ['--ui-port', String(options.uiPort), '--ui-disable-news-fetch'] : ['--headless']),
    ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
  ];
  const log = openSync(options.logFile, 'a');
  const child = options.supervised
    ? spawnSupervised('embedded/tether.ts', [temporalCli(), ...args], { output: log })
    : spawn(temporalCli(), args, { stdio: ['ignore', log, log] });
  options.onSpawn?.(child);
  // A tether leads its own process group: killing the group kills the server behind it too.
  const kill = (signal: NodeJS.Signals) =>
    options.supervised ? signalGroup(child.pid!, signal) : child.kill(signal);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const address = hostPort(reachableHost(host), options.port);
  try {
    const connection = await waitForTemporal(address, 60_000, () => !exited);
    await connection.workflowService.updateNamespace({
      namespace: options.namespace,
      config: { workflowExecutionRetentionTtl: msToTs(`${options.retentionDays} days`) },
    });
    await connection.close();
  } catch (error) {
    kill('SIGKILL');
    throw new Error(`${error instanceof Error ? error.message : String(error)} (see ${options.logFile})`);
  }
  return {
    address,
    uiUrl: options.uiPort ? `http://${hostPort(reachableHost(host), options.uiPort)}` : null,
    process: child,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
