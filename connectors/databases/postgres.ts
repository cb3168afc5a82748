// The `postgres` adapter of the databases port: logs in as the connection's user (its password from
// the vault) with `pg`. A new password is sent as a SCRAM-SHA-256 verifier computed here, so the
// password itself never reaches the server, its logs or pg_stat_activity; every change is checked
// by logging in (or failing to) as the role, and a dropped database by the catalogue and a login.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { AutomationEvidence, CommandRun, DumpRecord, Verification } from '../../domain/automation.js';
import type { PostgresSettings } from '../connections/settings.js';
import { ConnectorError, authRefused, notConfigured, unreachable, verificationFailed } from '../failures.js';
import { runTool } from '../tool.js';
import type { Database } from './port.js';
import { evidenceFor } from '../evidence.js';

export interface PostgresOptions {
  /** How long connecting and each statement may take (default 15 s). */
  timeoutMs?: number;
}

/** PostgreSQL's own iteration count for SCRAM-SHA-256 (scram_iterations' default). */
const scramIterations = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677): what
 * `ALTER ROLE … PASSWORD` accepts in place of the password. The password is not normalised
 * (SASLprep): ours are ASCII, for which it changes nothing.
 */
export function scramVerifier(password: string): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, scramIterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${scramIterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** SQLSTATEs a login answers when the password is wrong or the role may not log in. */
const refusedLogin = new Set(['28P01', '28000']);
/** SQLSTATE of a connection to a database that does not exist. */
const noSuchDatabase = '3D000';

const codeOf = (error: unknown) => (error as { code?: string } | undefined)?.code;

export function createPostgresDatabase(
  connection: { id: string; settings: PostgresSettings },
  secret: string,
  options: PostgresOptions = {},
): Database {
  const { settings } = connection;
  const target = `${settings.host}:${settings.port}/${settings.database}`;
  const timeout = options.timeoutMs ?? 15_000;

  function client(user: string, password: string, database = settings.database): pg.Client {
    return new pg.Client({
      host: settings.host,
      port: settings.port,
      database,
      user,
      password,
      connectionTimeoutMillis: timeout,
      statement_timeout: timeout,
      query_timeout: timeout,
    });
  }

  function named(error: unknown, during: string): ConnectorError {
    if (error instanceof ConnectorError) return error;
    const code = codeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    // 42xxx: syntax or access rule violations (no privilege, no such role): not fixed by a retry.
    if (code?.startsWith('42')) return notConfigured(`${target}: cannot ${during}: ${message}`);
    return unreachable(`${target}: cannot ${during}: ${message}`);
  }

  /** Runs `work` logged in as the connection (on `database`, by default the connection's). */
  async function asConnection<T>(
    during: string,
    work: (db: pg.Client) => Promise<T>,
    database?: string,
  ): Promise<T> {
    const db = client(settings.user, secret, database);
    db.on('error', () => undefined); // a server gone mid-call fails the query; no unhandled event
    try {
      try {
        await db.connect();
      } catch (error) {
        if (refusedLogin.has(codeOf(error) ?? ''))
          throw authRefused(`${target} refused the login of ${settings.user}`);
        if (codeOf(error) === noSuchDatabase)
          throw notConfigured(`${target}: there is no database ${database ?? settings.database}`);
        throw error;
      }
      return await work(db);
    } catch (error) {
      throw named(error, during);
    } finally {
      await db.end().catch(() => undefined);
    }
  }

  /** Whether `role` logs in with `password` (a refused login is `false`, an unreachable server throws). */
  async function logsIn(role: string, password: string): Promise<boolean> {
    const db = client(role, password);
    db.on('error', () => undefined);
    try {
      await db.connect();
      return true;
    } catch (error) {
      if (refusedLogin.has(codeOf(error) ?? '')) return false;
      throw named(error, `log in as ${role}`);
    } finally {
      await db.end().catch(() => undefined);
    }
  }

  /** A statement the adapter ran, as a command is recorded: its text (never a password) and result. */
  function statement(command: string, result: string): CommandRun {
    return {
      command,
      exitCode: 0,
      outputSha256: createHash('sha256').update(result).digest('hex'),
      at: new Date().toISOString(),
    };
  }

  async function verifyLogins(
    role: string,
    expectations: { what: string; password: string; logsIn: boolean }[],
  ): Promise<Verification[]> {
    const verifications: Verification[] = [];
    for (const expectation of expectations) {
      const loggedIn = await logsIn(role, expectation.password);
      const passed = loggedIn === expectation.logsIn;
      verifications.push({
        what: expectation.what,
        passed,
        at: new Date().toISOString(),
        detail: loggedIn ? 'login accepted' : 'login refused (password authentication failed)',
      });
      if (!passed)
        throw verificationFailed(
          `${target}, role ${role}: "${expectation.what}" did not hold (${loggedIn ? 'login accepted' : 'login refused'})`,
        );
    }
    return verifications;
  }

  const evidence = evidenceFor('postgres', connection.id, target);

  async function alterRole(role: string, change: string, recorded: string): Promise<CommandRun> {
    return asConnection(`alter role ${role}`, async (db) => {
      const exists = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (exists.rowCount === 0) throw notConfigured(`${target}: there is no role ${role}`);
      const result = await db.query(`ALTER ROLE ${db.escapeIdentifier(role)} ${change}`);
      return statement(`ALTER ROLE ${db.escapeIdentifier(role)} ${recorded}`, result.command);
    });
  }

  /** Where pg_dump and pg_restore connect, as whom; never a password (it goes in their environment). */
  const serverArgs = ['--no-password', '-h', settings.host, '-p', String(settings.port), '-U', settings.user];

  /** pg_dump of `database` in its custom format into `file`, read back by pg_restore --list. */
  async function dump(file: string, database = settings.database): Promise<DumpRecord> {
    // The password goes in the environment: pg_dump's arguments show in `ps` and in the evidence.
    const env = { PGPASSWORD: secret, PGCONNECT_TIMEOUT: String(Math.ceil(timeout / 1000)) };
    const dumped = await runTool('pg_dump', ['--format=custom', ...serverArgs, '-f', file, database], {
      env,
    });
    if (dumped.code !== 0) {
      if (/password authentication failed/.test(dumped.stderr))
        throw authRefused(`${target} refused the login of ${settings.user}`);
      if (/does not exist/.test(dumped.stderr))
        throw notConfigured(`${target}: there is no database ${database}`);
      throw unreachable(`${target}: pg_dump of ${database} failed: ${dumped.stderr.trim().slice(0, 300)}`);
    }
    const listed = await runTool('pg_restore', ['--list', file]);
    const entries = listed.stdout.split('\n').filter((line) => line && !line.startsWith(';')).length;
    const verifications: Verification[] = [
      {
        what: 'pg_restore --list reads the dump back',
        passed: listed.code === 0,
        at: new Date().toISOString(),
        detail: listed.code === 0 ? `${entries} archive entries` : listed.stderr.trim().slice(0, 200),
      },
    ];
    if (listed.code !== 0) throw verificationFailed(`${target}: the dump of ${database} does not read back`);
    const version = /(\d+[.\d]*)/.exec((await runTool('pg_dump', ['--version'])).stdout)?.[1] ?? 'unknown';
    return {
      name: `${database}.dump`,
      commands: [dumped.run, listed.run],
      verifications,
      facts: { database, format: 'pg_dump custom format', tool: `pg_dump ${version}` },
    };
  }

  /** Counts the rows of every table of `database`, by schema-qualified name. */
  async function rowCounts(database: string): Promise<Map<string, number>> {
    return asConnection(
      `count the rows of ${database}`,
      async (db) => {
        const { rows } = await db.query<{ schema: string; name: string }>(
          `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
            WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
            ORDER BY 1, 2`,
        );
        const counts = new Map<string, number>();
        for (const { schema, name } of rows) {
          const table = `${db.escapeIdentifier(schema)}.${db.escapeIdentifier(name)}`;
          const { rows: counted } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
          counts.set(`${schema}.${name}`, Number(counted[0]!.n));
        }
        return counts;
      },
      database,
    );
  }

  /** DROP DATABASE … WITH (FORCE), then the catalogue and a login must say it is gone. */
  async function dropDatabase(database = settings.database): Promise<AutomationEvidence> {
    const startedAt = new Date().toISOString();
    // A database cannot be dropped from a session on it: then the maintenance database is used.
    const from = database === settings.database ? 'postgres' : settings.database;
    const { commands, version } = await asConnection(
      `drop database ${database}`,
      async (db) => {
        const { rows } = await db.query<{ version: string }>(
          "SELECT current_setting('server_version') AS version",
        );
        const run: CommandRun[] = [];
        const found = await db.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        // Already gone: a retry of a deletion that went through, nothing to run again.
        if (found.rowCount) {
          const sql = `DROP DATABASE ${db.escapeIdentifier(database)} WITH (FORCE)`;
          run.push(statement(sql, (await db.query(sql)).command));
        }
        return { commands: run, version: rows[0]?.version ?? 'unknown' };
      },
      from,
    );
    const listed = await asConnection(
      'read the catalogue',
      async (db) => (await db.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount,
      from,
    );
    const connectable = await asConnection(
      'connect to the dropped database',
      () => Promise.resolve(true),
      database,
    ).catch((error: unknown) => {
      if (error instanceof ConnectorError && error.type === 'ConnectorNotConfigured') return false;
      throw error;
    });
    const at = new Date().toISOString();
    const verifications: Verification[] = [
      {
        what: `pg_database lists no database ${database}`,
        passed: listed === 0,
        at,
        detail: `${listed ?? 0} row(s)`,
      },
      {
        what: `a connection to ${database} is refused (database does not exist)`,
        passed: !connectable,
        at,
        detail: connectable ? 'connected' : 'refused: no such database',
      },
    ];
    const failed = verifications.find((check) => !check.passed);
    if (failed) throw verificationFailed(`${target}: "${failed.what}" did not hold`);
    return evidence(startedAt, commands, verifications, {
      sanitization: {
        mediaType: 'PostgreSQL database',
        mediaId: `${settings.host}:${settings.port}/${database}`,
        category: 'Purge',
        technique: 'logical deletion: DROP DATABASE … WITH (FORCE) removes the database and its data files',
        tool: 'PostgreSQL',
        toolVersion: version,
        verificationMethod: verifications.map((check) => check.what).join('; '),
        verificationResult: 'passed',
      },
    });
  }

  return {
    check: () =>
      asConnection('read the server version', async (db) => {
        const { rows } = await db.query<{ version: string }>(
          "SELECT current_setting('server_version') AS version",
        );
        return {
          detail: `logged in to ${target} as ${settings.user}; PostgreSQL ${rows[0]?.version ?? 'of unknown version'}`,
        };
      }),

    async rotatePassword(role, newPassword, previousPassword) {
      const startedAt = new Date().toISOString();
      const verifier = scramVerifier(newPassword);
      const command = await alterRole(
        role,
        `WITH LOGIN PASSWORD '${verifier}'`,
        'WITH LOGIN PASSWORD <SCRAM-SHA-256 verifier of the new password>',
      );
      const verifications = await verifyLogins(role, [
        { what: 'new password logs in', password: newPassword, logsIn: true },
        ...(previousPassword !== undefined && previousPassword !== newPassword
          ? [{ what: 'previous password refused', password: previousPassword, logsIn: false }]
          : []),
      ]);
      return evidence(startedAt, [command], verifications);
    },

    async disableRole(role, previousPassword) {
      const startedAt = new Date().toISOString();
      const command = await alterRole(role, 'WITH NOLOGIN PASSWORD NULL', 'WITH NOLOGIN PASSWORD NULL');
      const verifications =
        previousPassword === undefined
          ? []
          : await verifyLogins(role, [
              { what: 'previous password refused', password: previousPassword, logsIn: false },
            ]);
      const { rows } = await asConnection('read the role back', (db) =>
        db.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]),
      );
      const passed = rows[0]?.rolcanlogin === false;
      verifications.push({
        what: 'the role may not log in',
        passed,
        at: new Date().toISOString(),
        detail: `pg_roles.rolcanlogin is ${String(rows[0]?.rolcanlogin)}`,
      });
      if (!passed) throw verificationFailed(`${target}: role ${role} may still log in`);
      return evidence(startedAt, [command], verifications);
    },

    dump,

    async validateRestore() {
      const startedAt = new Date().toISOString();
      const source = settings.database;
      const scratch = `restore_check_${randomBytes(6).toString('hex')}`;
      const dir = await mkdtemp(path.join(tmpdir(), 'restore-validation-'));
      const file = path.join(dir, 'dump');
      const commands: CommandRun[] = [];
      const verifications: Verification[] = [];
      try {
        const dumped = await dump(file, source);
        commands.push(...dumped.commands);
        const { size } = await stat(file);
        commands.push(
          await asConnection('create the scratch database', async (db) =>
            statement(
              `CREATE DATABASE ${db.escapeIdentifier(scratch)}`,
              (await db.query(`CREATE DATABASE ${db.escapeIdentifier(scratch)}`)).command,
            ),
          ),
        );
        const restoreStartedAt = new Date().toISOString();
        const restored = await runTool(
          'pg_restore',
          ['--no-owner', '--no-privileges', '--exit-on-error', ...serverArgs, '-d', scratch, file],
          { env: { PGPASSWORD: secret } },
        );
        const restoreEndedAt = new Date().toISOString();
        commands.push(restored.run);
        if (restored.code !== 0)
          throw verificationFailed(
            `${target}: pg_restore into ${scratch} failed: ${restored.stderr.trim().slice(0, 300)}`,
          );
        const [expected, found] = await Promise.all([rowCounts(source), rowCounts(scratch)]);
        const differing = [...expected]
          .filter(([table, rows]) => found.get(table) !== rows)
          .map(([table]) => table);
        const totalRows = [...expected.values()].reduce((sum, rows) => sum + rows, 0);
        verifications.push({
          what: `every table of ${source} is in the restored copy with as many rows (check query: count(*) per table)`,
          passed: differing.length === 0 && found.size === expected.size,
          at: new Date().toISOString(),
          detail: differing.length
            ? `differing: ${differing.slice(0, 5).join(', ')}`
            : `${expected.size} table(s), ${totalRows} row(s)`,
        });
        if (!verifications.at(-1)!.passed)
          throw verificationFailed(
            `${target}: the restored copy of ${source} differs (${verifications.at(-1)!.detail})`,
          );
        const dropped = await dropDatabase(scratch);
        commands.push(...dropped.commands);
        verifications.push({
          what: `the scratch database ${scratch} is dropped`,
          passed: true,
          at: dropped.finishedAt,
          detail: dropped.verifications.map((check) => check.what).join('; '),
        });
        return evidence(startedAt, commands, verifications, {
          facts: { database: source, scratchDatabase: scratch, ...dumped.facts },
          restore: {
            startedAt: restoreStartedAt,
            endedAt: restoreEndedAt,
            integrityCheck: 'passed',
            verifiedBy: `connector postgres (${connection.id})`,
            restoredBytes: size,
          },
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
        // A failed check leaves no scratch copy behind either.
        await asConnection('drop the scratch database', (db) =>
          db.query(`DROP DATABASE IF EXISTS ${db.escapeIdentifier(scratch)} WITH (FORCE)`),
        ).catch(() => undefined);
      }
    },

    dropDatabase,
  };
}
