import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../config/config.js';
import { freePortBelow32768 } from './ports.js';
import { killStillRunning, processTree, type ObservedProcess } from './processes.js';

export const devOperatorKey = 'embedded-run-test-operator-key';

export type DevEnv = Record<
  'DATA_DIR' | 'PORT' | 'PUBLIC_URL' | 'TEMPORAL_PORT' | 'TEMPORAL_UI_PORT' | 'MAILBOX_PORT' | 'API_KEYS',
  string
>;

export interface DevRun {
  child: ChildProcess;
  /** stdout and stderr as they came. */
  output(): string;
  exited: Promise<number | null>;
}

const started: { child: ChildProcess; tree: ObservedProcess[] }[] = [];
const dataDirs: string[] = [];

/**
 * An environment for one embedded run on free loopback ports, with its own DATA_DIR. The ports are
 * below the kernel's ephemeral range: a run that is stopped and started again binds the same ports,
 * and in between an outgoing connection of a test running alongside could take one from that range
 * as its local port (EADDRINUSE for the second start, seen in CI).
 */
export async function devEnv(): Promise<DevEnv> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'msp-dev-'));
  dataDirs.push(dataDir);
  const port = await freePortBelow32768();
  return {
    DATA_DIR: dataDir,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TEMPORAL_PORT: String(await freePortBelow32768()),
    TEMPORAL_UI_PORT: String(await freePortBelow32768()),
    MAILBOX_PORT: String(await freePortBelow32768()),
    API_KEYS: `ops:operator:${devOperatorKey}`,
  };
}

/**
 * Starts the embedded run as a terminal starts a job: in its own process group. `npm` runs
 * `npm run dev` itself (npm, its `sh -c`, the supervisor); otherwise the supervisor is the process.
 */
export function runDev(env: Partial<DevEnv>, { npm = false } = {}): DevRun {
  let output = '';
  const [command, args] = npm
    ? ['npm', ['run', 'dev']]
    : [process.execPath, ['--import', 'tsx', path.join(projectRoot, 'bin', 'dev.ts')]];
  const child = spawn(command, args, {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  started.push({ child, tree: [] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Every process of a run as it is now, remembered so cleanup can kill what a failing test leaves. */
export function runProcesses(run: DevRun): ObservedProcess[] {
  const tree = processTree(run.child.pid!);
  started.find(({ child }) => child === run.child)!.tree.push(...tree);
  return tree;
}

/**
 * Waits for the run's API to be ready; stops at once if the run ends first. Either way a failure
 * shows what the run printed, so a flaky start can be read from the test's output alone.
 */
export async function waitReady(run: DevRun, url: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  void run.exited.then(() => (ended = true));
  while (Date.now() < deadline && !ended) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const why = ended ? 'the run ended first' : `no 200 within ${timeoutMs} ms`;
  throw new Error(`${url}/readyz did not answer 200: ${why}. The run printed:\n${run.output().slice(-3000)}`);
}

/** The run's exit code, or `running` if it is still going after `timeoutMs`. */
export function exitWithin(run: DevRun, timeoutMs: number): Promise<number | null | 'running'> {
  return Promise.race([run.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), timeoutMs))]);
}

/** For afterAll: SIGINT to every run still going, then SIGKILL to whatever any run left behind. */
export async function cleanUpDevRuns(): Promise<void> {
  for (const { child, tree } of started) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    tree.push(...processTree(child.pid!));
    process.kill(-child.pid!, 'SIGINT');
    await Promise.race([
      new Promise((resolve) => child.once('exit', resolve)),
      new Promise((resolve) => setTimeout(resolve, 30_000)),
    ]);
  }
  killStillRunning(started.flatMap(({ tree }) => tree));
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
}
