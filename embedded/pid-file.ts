// DATA_DIR/dev.pids names the running embedded run: the supervisor and each process it started, with
// their start times. It is the second line of defence after the children's own watch on the
// supervisor (supervised.ts): the next start stops whatever a run left behind before binding a port.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isRunning, processRef, stopGroup, type ProcessRef } from './processes.js';

export interface NamedProcess extends ProcessRef {
  name: string;
}

interface RunRecord {
  supervisor: NamedProcess;
  /** Each is the leader of its own process group. */
  children: NamedProcess[];
}

const fileName = 'dev.pids';
const leftoverGraceMs = 10_000;

function read(file: string): RunRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file} is unreadable (${(error as Error).message}): delete it once nothing runs`);
  }
}

/**
 * Stops the processes an earlier run left running and returns them. A run whose supervisor is alive
 * is not left over: refuse to start beside it, on the same ports and SQLite file.
 */
export async function stopLeftovers(dataDir: string): Promise<NamedProcess[]> {
  const file = path.join(dataDir, fileName);
  const record = read(file);
  if (!record) return [];
  if (isRunning(record.supervisor)) {
    throw new Error(
      `another embedded run (pid ${record.supervisor.pid}) uses ${dataDir}: stop it first (Ctrl-C in its terminal, or kill ${record.supervisor.pid})`,
    );
  }
  const leftovers = record.children.filter(isRunning);
  await Promise.all(leftovers.map((child) => stopGroup(child.pid, leftoverGraceMs)));
  rmSync(file, { force: true });
  return leftovers;
}

// Without /proc the start time is unknown: the process is recorded but never taken for a leftover.
const named = (name: string, pid: number): NamedProcess => ({
  name,
  ...(processRef(pid) ?? { pid, startTime: '' }),
});

/** Records this process as the run's supervisor; `add` records each child as it starts. */
export function recordRun(dataDir: string) {
  const file = path.join(dataDir, fileName);
  const record: RunRecord = { supervisor: named('supervisor', process.pid), children: [] };
  const write = () => {
    // Written whole and renamed, so a crash mid-write never leaves half a record.
    writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  };
  write();
  return {
    add(name: string, pid: number) {
      record.children.push(named(name, pid));
      write();
    },
    remove() {
      rmSync(file, { force: true });
    },
  };
}

export type RunFile = ReturnType<typeof recordRun>;
