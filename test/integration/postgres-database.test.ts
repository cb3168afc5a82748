// The postgres adapter against Debian's real PostgreSQL on loopback: a role's password rotated (the
// new one logs in, the old one is refused, the server never sees the password), a role disabled, a
// database dropped and checked gone; each failure named by what a retry can do. Logins are
// re-checked with `pg` directly, apart from the adapter.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFailureTypes } from '../../domain/automation.js';
import { ConnectorError } from '../../connectors/failures.js';
import { createPostgresDatabase } from '../../connectors/databases/postgres.js';
import type { PostgresSettings } from '../../connectors/connections/settings.js';
import { freePort } from '../support/ports.js';
import { startPostgres, type Postgres } from '../support/postgres.js';

let server: Postgres;
let admin: { user: string; password: string; host: string; port: number };

beforeAll(async () => {
  server = await startPostgres();
  const url = new URL(server.url);
  admin = {
    user: url.username,
    password: decodeURIComponent(url.password),
    host: url.hostname,
    port: Number(url.port),
  };
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

function database(overrides: Partial<PostgresSettings> = {}, secret = admin.password) {
  const settings = {
    host: admin.host,
    port: admin.port,
    database: 'runbooks',
    user: admin.user,
    ...overrides,
  };
  return createPostgresDatabase({ id: 'acme-db', settings }, secret, { timeoutMs: 5000 });
}

async function asAdmin<T>(work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ ...admin, database: 'runbooks' });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

async function logsIn(user: string, password: string, database = 'runbooks'): Promise<boolean> {
  const db = new pg.Client({ host: admin.host, port: admin.port, user, password, database });
  try {
    await db.connect();
    return true;
  } catch {
    return false;
  } finally {
    await db.end().catch(() => undefined);
  }
}

async function failureOf(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('the postgres adapter', () => {
  it('checks a connection by logging in and reading the server version', async () => {
    const { detail } = await database().check();
    expect(detail).toMatch(/logged in to 127\.0\.0\.1:\d+\/runbooks as runbooks; PostgreSQL \d+/);
  });

  it('names a refused login, a missing database and an unreachable server', async () => {
    expect((await failureOf(database({}, 'wrong').check())).type).toBe(connectorFailureTypes.authRefused);
    expect((await failureOf(database({ database: 'nowhere' }).check())).type).toBe(
      connectorFailureTypes.notConfigured,
    );
    expect((await failureOf(database({ port: await freePort() }).check())).type).toBe(
      connectorFailureTypes.unreachable,
    );
  });

  it('rotates a role password: the new one logs in, the old one is refused, the server never sees it', async () => {
    await asAdmin((db) => db.query(`CREATE ROLE app_rw LOGIN PASSWORD 'old-secret-1'`));
    const outcome = await database().rotatePassword('app_rw', 'new-secret-1', 'old-secret-1');
    expect(await logsIn('app_rw', 'new-secret-1')).toBe(true);
    expect(await logsIn('app_rw', 'old-secret-1')).toBe(false);
    expect(outcome.verifications.map((check) => [check.what, check.passed])).toEqual([
      ['new password logs in', true],
      ['previous password refused', true],
    ]);
    expect(outcome.commands[0]!.command).toBe(
      'ALTER ROLE "app_rw" WITH LOGIN PASSWORD <SCRAM-SHA-256 verifier of the new password>',
    );
    expect(JSON.stringify(outcome)).not.toContain('new-secret-1');
    const stored = await asAdmin((db) =>
      db.query<{ rolpassword: string }>(`SELECT rolpassword FROM pg_authid WHERE rolname = 'app_rw'`),
    );
    expect(stored.rows[0]!.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
  });

  it('names a role that does not exist as a configuration problem', async () => {
    const error = await failureOf(database().rotatePassword('nobody_here', 'x1'));
    expect(error.type).toBe(connectorFailureTypes.notConfigured);
    expect(error.message).toContain('there is no role nobody_here');
  });

  it('disables a role: its login refused, pg_roles says so; a second run passes too', async () => {
    await asAdmin((db) => db.query(`CREATE ROLE msp_admin LOGIN PASSWORD 'msp-secret-1'`));
    const outcome = await database().disableRole('msp_admin', 'msp-secret-1');
    expect(await logsIn('msp_admin', 'msp-secret-1')).toBe(false);
    expect(outcome.verifications.map((check) => [check.what, check.passed])).toEqual([
      ['previous password refused', true],
      ['the role may not log in', true],
    ]);
    expect((await database().disableRole('msp_admin')).verifications.every((check) => check.passed)).toBe(
      true,
    );
  });

  it('drops a database with a NIST record: listed no more, a connection refused; a retry runs nothing', async () => {
    await server.createDatabase('acme_crm');
    await asAdmin(async () => {
      const db = new pg.Client({ ...admin, database: 'acme_crm' });
      await db.connect();
      await db.query('CREATE TABLE customers (id int); INSERT INTO customers VALUES (1)');
      await db.end();
    });
    // A session left open on it, as an application would: DROP … WITH (FORCE) ends it.
    const lingering = new pg.Client({ ...admin, database: 'acme_crm' });
    lingering.on('error', () => undefined);
    await lingering.connect();
    const outcome = await database().dropDatabase('acme_crm');
    await lingering.end().catch(() => undefined);
    expect(await logsIn(admin.user, admin.password, 'acme_crm')).toBe(false);
    expect(outcome.commands.map((run) => run.command)).toEqual(['DROP DATABASE "acme_crm" WITH (FORCE)']);
    expect(outcome.verifications.every((check) => check.passed)).toBe(true);
    expect(outcome.sanitization).toMatchObject({
      category: 'Purge',
      tool: 'PostgreSQL',
      mediaId: `${admin.host}:${admin.port}/acme_crm`,
      verificationResult: 'passed',
    });
    expect(outcome.sanitization!.toolVersion).toMatch(/^\d+/);
    const again = await database().dropDatabase('acme_crm');
    expect(again.commands).toEqual([]);
    expect(again.verifications.every((check) => check.passed)).toBe(true);
  });

  it('validates a restore: a fresh dump restored into a scratch database, every table counted, the scratch copy dropped', async () => {
    await server.createDatabase('acme_billing');
    const db = new pg.Client({ ...admin, database: 'acme_billing' });
    await db.connect();
    await db.query(
      `CREATE TABLE invoices (id int); INSERT INTO invoices SELECT generate_series(1, 250);
       CREATE SCHEMA archive; CREATE TABLE archive.invoices (id int); INSERT INTO archive.invoices VALUES (1), (2)`,
    );
    await db.end();
    const outcome = await database({ database: 'acme_billing' }).validateRestore();
    expect(outcome.restore).toMatchObject({
      integrityCheck: 'passed',
      verifiedBy: 'connector postgres (acme-db)',
    });
    expect(outcome.restore!.restoredBytes).toBeGreaterThan(0);
    expect(outcome.verifications.map((check) => [check.what, check.passed, check.detail])).toEqual([
      [
        'every table of acme_billing is in the restored copy with as many rows (check query: count(*) per table)',
        true,
        '2 table(s), 252 row(s)',
      ],
      [`the scratch database ${outcome.facts!.scratchDatabase} is dropped`, true, expect.any(String)],
    ]);
    const left = await asAdmin((db) =>
      db.query(`SELECT datname FROM pg_database WHERE datname LIKE 'restore_check_%'`),
    );
    expect(left.rows).toEqual([]);
    expect(outcome.commands.map((run) => run.command.split(' ')[0])).toEqual([
      'pg_dump',
      'pg_restore',
      'CREATE',
      'pg_restore',
      'DROP',
    ]);
    expect(JSON.stringify(outcome)).not.toContain(admin.password);
  });
});
