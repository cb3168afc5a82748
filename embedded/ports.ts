import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { commandLine, socketHolder } from './processes.js';

export interface TcpListener {
  address: string;
  port: number;
  inode: string;
}

/** `0100007F` (IPv4) or 32 hex digits (IPv6), each 32-bit word in the kernel's little-endian order. */
function decodeAddress(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  for (let word = 0; word < bytes.length; word += 4) bytes.subarray(word, word + 4).reverse();
  if (bytes.length === 4) return [...bytes].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16));
  // The URL parser writes an IPv6 address in its usual short form (`::1`).
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

const listenState = '0A';

/** Every listening TCP socket of this network namespace, from /proc/net/tcp and tcp6 (Linux). */
export function tcpListeners(): TcpListener[] {
  const listeners: TcpListener[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const [, local = '', , state, , , , , , inode = ''] = line.trim().split(/\s+/);
      if (state !== listenState) continue;
      const [address = '', port = ''] = local.split(':');
      listeners.push({ address: decodeAddress(address), port: parseInt(port, 16), inode });
    }
  }
  return listeners;
}

/** The process listening on a TCP port, when this user may see it. */
export function portHolder(port: number): { pid: number; command: string } | undefined {
  for (const listener of tcpListeners().filter((candidate) => candidate.port === port)) {
    const pid = socketHolder(listener.inode);
    if (pid !== undefined) return { pid, command: commandLine(pid) ?? '?' };
  }
  return undefined;
}

const shown = (command: string) => (command.length > 80 ? `${command.slice(0, 77)}...` : command);

/**
 * Fails with one line naming the port, the variable that sets it and, when it can be found, the
 * process holding it. Checked before starting anything: the Temporal dev server would otherwise
 * fail to bind while its clients silently talk to whichever server already answers on that port.
 * With `settleMs`, a port still in use is probed again for that long: one a process just stopped held.
 */
export async function ensurePortFree(
  host: string,
  port: number,
  variable: string,
  settleMs = 0,
): Promise<void> {
  const inUse = () =>
    new Promise<boolean>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', (error: NodeJS.ErrnoException) =>
        error.code === 'EADDRINUSE' ? resolve(true) : reject(error),
      );
      probe.listen(port, host, () => probe.close(() => resolve(false)));
    });
  const deadline = Date.now() + settleMs;
  while (await inUse()) {
    if (Date.now() >= deadline) return refuse(port, variable);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function refuse(port: number, variable: string): never {
  const holder = portHolder(port);
  const by = holder ? `pid ${holder.pid} (${shown(holder.command)})` : 'another process';
  throw new Error(`port ${port} (${variable}) is in use by ${by}: stop it or set ${variable} to a free port`);
}
