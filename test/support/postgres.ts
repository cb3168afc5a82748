// A throwaway PostgreSQL from Debian's package: `initdb` into a temp folder, the server on a free
// loopback port, a password-protected role and database, removed at stop. PostgreSQL refuses to run
// as root, so as root it runs as the `postgres` user the package creates (or `nobody`).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

export interface Postgres {
  /** `postgres://runbooks:<password>@127.0.0.1:<port>/runbooks`, for STATE_DB_URL. */
  url: string;
  /** A fresh database on the same server (its own schema, for a test that wants to start empty). */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The newest PostgreSQL of Debian's `postgresql` package (`/usr/lib/postgresql/<version>/bin`). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(path.join(root, name, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0])
    throw new Error(
      "PostgreSQL is not installed: `npm test` installs Debian's postgresql (scripts/prepare.mjs), or run `apt-get install postgresql`",
    );
  return path.join(root, versions[0], 'bin');
}

/** Who runs the server: this process's user, or as root a user PostgreSQL accepts. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const users = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'));
  const entry =
    users.find((fields) => fields[0] === 'postgres') ?? users.find((fields) => fields[0] === 'nobody');
  if (!entry)
    throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL');
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

async function waitForConnection(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let lastError: unknown;
  while (Date.now() < deadline && server.exitCode === null) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(
    `PostgreSQL did not accept connections (${String(lastError)}); it printed:\n${log().slice(-2000)}`,
  );
}

/** Starts PostgreSQL on a free loopback port; `stop` ends it and removes its files. */
export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBin();
  const user = serverUser();
  const dir = await mkdtemp(path.join(tmpdir(), 'msp-postgres-'));
  const dataDir = path.join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const passwordFile = path.join(dir, 'password');
  await writeFile(passwordFile, password, { mode: 0o600 });
  if (user) {
    await chown(dir, user.uid, user.gid);
    await chown(passwordFile, user.uid, user.gid);
  }
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  await new Promise<void>((resolve, reject) => {
    execFile(
      path.join(bin, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        'runbooks',
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '-E',
        'UTF8',
        '--no-sync',
      ],
      { ...asUser, cwd: dir, timeout: 60_000 },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`initdb failed: ${stderr || error.message}`)) : resolve(),
    );
  });
  const port = await freePort();
  let log = '';
  const server = spawn(
    path.join(bin, 'postgres'),
    ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    { ...asUser, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const urlOf = (database: string) => `postgres://runbooks:${password}@127.0.0.1:${port}/${database}`;

  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGINT'); // fast shutdown
      const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const createDatabase = async (name: string) => {
    const client = new pg.Client({ connectionString: urlOf('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return urlOf(name);
  };

  try {
    await waitForConnection(urlOf('postgres'), server, () => log);
    return { url: await createDatabase('runbooks'), createDatabase, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
