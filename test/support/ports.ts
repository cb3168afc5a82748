import { connect, createServer } from 'node:net';

/** Listens on loopback `port` (0: any) and closes again; the port it got, or undefined if taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error),
    );
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A port that was free a moment ago on loopback. */
export async function freePort(): Promise<number> {
  const port = await tryPort(0);
  if (port === undefined) throw new Error('no free port on loopback');
  return port;
}

/**
 * A free loopback port below 32768, for a server that keeps its port in a smallint column
 * (Temporal's cluster_membership.rpc_port on PostgreSQL): the kernel hands out ports above it.
 */
export async function freePortBelow32768(): Promise<number> {
  for (;;) {
    const port = await tryPort(10_000 + Math.floor(Math.random() * 22_768));
    if (port !== undefined) return port;
  }
}

/** Resolves once something accepts connections on loopback `port`; rejects after `timeoutMs`. */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  isAlive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (!isAlive()) throw new Error(`the server for port ${port} exited before it listened`);
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
