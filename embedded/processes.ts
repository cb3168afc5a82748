// What the supervisor needs to know about other processes, read from Linux's /proc. Elsewhere every
// lookup finds nothing: leftovers are then neither recognised nor stopped, never stopped by mistake.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A pid with its start time: together they name one process, even after the pid is reused. */
export interface ProcessRef {
  pid: number;
  startTime: string;
}

interface ProcStat {
  state: string;
  ppid: number;
  pgid: number;
  startTime: string;
}

function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name in parentheses may hold spaces and parentheses: count fields from the last ')'.
  // fields[0] is field 3 of proc(5) (state), so starttime (field 22) is fields[19].
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, ppid: Number(fields[1]), pgid: Number(fields[2]), startTime: fields[19]! };
}

function runningStat(pid: number): ProcStat | undefined {
  const stat = procStat(pid);
  // A zombie has finished; only its parent's wait() is missing.
  return stat && stat.state !== 'Z' ? stat : undefined;
}

export function processRef(pid: number): ProcessRef | undefined {
  const stat = runningStat(pid);
  return stat && { pid, startTime: stat.startTime };
}

export function isRunning(ref: ProcessRef): boolean {
  return runningStat(ref.pid)?.startTime === ref.startTime;
}

export function parentOf(pid: number): number | undefined {
  return procStat(pid)?.ppid;
}

export function processGroupOf(pid: number): number | undefined {
  return procStat(pid)?.pgid;
}

/** The command line, for messages; undefined when the process is gone or not ours to read. */
export function commandLine(pid: number): string | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return line || undefined;
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** The running processes of a process group. */
export function groupMembers(pgid: number): number[] {
  return allPids().filter((pid) => runningStat(pid)?.pgid === pgid);
}

/** The process holding a socket, by the inode /proc/net/tcp shows for it. */
export function socketHolder(inode: string): number | undefined {
  const target = `socket:[${inode}]`;
  for (const pid of allPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return pid;
      } catch {
        // closed while we looked
      }
    }
  }
  return undefined;
}

/** Sends a signal to every process of a group; one that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupMembers(pgid).length > 0) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/** Asks a process group to stop (SIGTERM) and kills whatever of it is still running after `graceMs`. */
export async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  // A stopped process (Ctrl-Z, SIGSTOP) acts on SIGTERM only once it runs again.
  signalGroup(pgid, 'SIGCONT');
  if (await groupGone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  // The kernel releases a killed process's ports as it reaps it: wait for that before binding them.
  await groupGone(pgid, 2_000);
}
