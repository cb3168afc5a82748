// The embedded run as a terminal treats it: Ctrl-C (a SIGINT to the job's whole process group,
// which npm forwards once more), kill -9, ports someone else holds, and what an earlier run left.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanUpDevRuns,
  devEnv,
  exitWithin,
  runDev,
  runProcesses,
  waitReady,
  type DevEnv,
  type DevRun,
} from '../support/dev-run.js';
import {
  isRunning,
  listenAddresses,
  processTree,
  stillRunningAfter,
  type ObservedProcess,
} from '../support/processes.js';

afterAll(cleanUpDevRuns);

/** A run's processes take a few seconds to stop in order; orphans would still be there long after. */
const stopWithinMs = 15_000;
const commands = (processes: { pid: number; command: string }[]) =>
  processes.map(({ pid, command }) => `${pid} ${command.slice(0, 100)}`);

function holdPort(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('a running `npm run dev`', () => {
  let env: DevEnv;
  let run: DevRun;

  beforeAll(async () => {
    env = await devEnv();
    run = runDev(env, { npm: true });
    await waitReady(run, env.PUBLIC_URL);
  }, 120_000);

  it('listens on loopback only by default: API, Temporal, its Web UI, the mailbox', () => {
    for (const variable of ['PORT', 'TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'MAILBOX_PORT'] as const) {
      expect({ variable, addresses: listenAddresses(Number(env[variable])) }).toEqual({
        variable,
        addresses: ['127.0.0.1'],
      });
    }
  });

  it('stops every process when its process group gets SIGINT twice, as one Ctrl-C does', async () => {
    const processes = runProcesses(run);
    for (const part of ['temporal server start-dev', 'bin/worker.ts', 'bin/api.ts']) {
      expect(commands(processes).join('\n')).toContain(part);
    }
    process.kill(-run.child.pid!, 'SIGINT');
    process.kill(-run.child.pid!, 'SIGINT');
    expect(commands(await stillRunningAfter(processes, stopWithinMs))).toEqual([]);
  }, 60_000);
});

describe('kill -9', () => {
  it('of npm run dev stops everything it started', async () => {
    const env = await devEnv();
    const run = runDev(env, { npm: true });
    await waitReady(run, env.PUBLIC_URL);
    const processes = runProcesses(run);
    process.kill(run.child.pid!, 'SIGKILL');
    expect(commands(await stillRunningAfter(processes, stopWithinMs))).toEqual([]);
  }, 120_000);

  it('of the supervisor stops its children, and the next start binds the same ports', async () => {
    const env = await devEnv();
    const first = runDev(env);
    await waitReady(first, env.PUBLIC_URL);
    const processes = runProcesses(first);
    process.kill(first.child.pid!, 'SIGKILL');
    expect(commands(await stillRunningAfter(processes, stopWithinMs))).toEqual([]);

    const second = runDev(env);
    await waitReady(second, env.PUBLIC_URL);
    process.kill(-second.child.pid!, 'SIGINT');
    expect(await second.exited).toBe(0);
  }, 180_000);
});

describe('starting', () => {
  it.each(['PORT', 'TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'MAILBOX_PORT'] as const)(
    'with %s in use stops with one line naming the port and the process holding it',
    async (variable) => {
      const env = await devEnv();
      const port = Number(env[variable]);
      const holder = await holdPort(port);
      try {
        const run = runDev(env);
        expect(await exitWithin(run, 30_000)).toBe(1);
        const lines = run.output().trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(
          new RegExp(
            `^\\[dev\\] port ${port} \\(${variable}\\) is in use by pid ${process.pid} \\(.+\\): ` +
              `stop it or set ${variable} to a free port$`,
          ),
        );
      } finally {
        holder.close();
      }
    },
    60_000,
  );

  it('stops what an earlier run left running, as DATA_DIR/dev.pids names it, and starts', async () => {
    const env = await devEnv();
    // An API whose supervisor died without taking it along: it still holds PORT.
    const leftover = spawn(
      process.execPath,
      ['-e', `require('node:net').createServer().listen(${env.PORT}, '127.0.0.1')`],
      { detached: true, stdio: 'ignore' },
    );
    try {
      while (listenAddresses(Number(env.PORT)).length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const [{ pid, startTime }] = processTree(leftover.pid!) as [ObservedProcess];
      const deadSupervisor = spawnSync(process.execPath, ['-e', '']).pid;
      writeFileSync(
        path.join(env.DATA_DIR, 'dev.pids'),
        JSON.stringify({
          supervisor: { name: 'supervisor', pid: deadSupervisor, startTime: 'long gone' },
          children: [{ name: 'api', pid, startTime }],
        }),
      );
      const run = runDev(env);
      await waitReady(run, env.PUBLIC_URL);
      expect(run.output()).toContain(`[dev] stopped what an earlier run left running: api (pid ${pid})`);
      expect(isRunning({ pid, startTime, command: '' })).toBe(false);
    } finally {
      leftover.kill('SIGKILL');
    }
  }, 120_000);

  it('beside a live run on the same DATA_DIR refuses with one line', async () => {
    const env = await devEnv();
    // This test's own process stands for the live run's supervisor.
    const [{ pid, startTime }] = processTree(process.pid) as [ObservedProcess];
    writeFileSync(
      path.join(env.DATA_DIR, 'dev.pids'),
      JSON.stringify({ supervisor: { name: 'supervisor', pid, startTime }, children: [] }),
    );
    const run = runDev(env);
    expect(await exitWithin(run, 30_000)).toBe(1);
    expect(run.output().trim().split('\n')).toEqual([
      `[dev] another embedded run (pid ${process.pid}) uses ${env.DATA_DIR}: stop it first (Ctrl-C in its terminal, or kill ${process.pid})`,
    ]);
    expect(readFileSync(path.join(env.DATA_DIR, 'dev.pids'), 'utf8')).toContain(String(process.pid));
  }, 60_000);
});
