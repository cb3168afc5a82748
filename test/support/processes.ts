// Watches processes through /proc on its own, apart from the code under test (embedded/processes.ts),
// so a test sees what is really left running whatever the supervisor believes.
import { readdirSync, readFileSync } from 'node:fs';

export interface ObservedProcess {
  pid: number;
  startTime: string;
  command: string;
}

function stat(pid: number): { ppid: number; state: string; startTime: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]), startTime: fields[19]! };
  } catch {
    return undefined;
  }
}

function command(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '?';
  }
}

/** `root` and every process below it, whatever process group or session each one is in. */
export function processTree(root: number): ObservedProcess[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    const ppid = stat(Number(name))?.ppid;
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const tree: ObservedProcess[] = [];
  for (const queue = [root]; queue.length > 0;) {
    const pid = queue.shift()!;
    const found = stat(pid);
    if (found) tree.push({ pid, startTime: found.startTime, command: command(pid) });
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export function isRunning(observed: ObservedProcess): boolean {
  const found = stat(observed.pid);
  return found !== undefined && found.state !== 'Z' && found.startTime === observed.startTime;
}

/** Those of `processes` still running after up to `timeoutMs`; none as soon as all have exited. */
export async function stillRunningAfter(
  processes: ObservedProcess[],
  timeoutMs: number,
): Promise<ObservedProcess[]> {
  const deadline = Date.now() + timeoutMs;
  let running = processes.filter(isRunning);
  while (running.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    running = running.filter(isRunning);
  }
  return running;
}

export function killStillRunning(processes: ObservedProcess[]): void {
  for (const { pid } of processes.filter(isRunning)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
}

/** The local addresses of every listening TCP socket on `port` (IPv4 dotted; IPv6 as the kernel's hex). */
export function listenAddresses(port: number): string[] {
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const [, local = '', , state] = line.trim().split(/\s+/);
      const [hex = '', portHex = ''] = local.split(':');
      if (state !== '0A' || parseInt(portHex, 16) !== port) continue;
      addresses.push(hex.length === 8 ? Buffer.from(hex, 'hex').reverse().join('.') : hex);
    }
  }
  return addresses;
}
