// The shared state database (STATE_DB_URL): the side-effect ledger, the vault records and the failed
// link attempts of every worker and API process, so that several of each can run on several hosts.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../../config/config.js';

export type StateDb = pg.Pool;

const migrationsDir = path.join(projectRoot, 'connectors', 'state-db', 'migrations');
const migrationFile = /^(\d{4})_[a-z0-9_]+\.sql$/;

/**
 * Any number that no other user of the database takes for an advisory lock: it serialises the
 * migrations of processes that start at the same moment.
 */
const migrationLockId = 0x6d7370_7262; // "msp" "rb"

/** A small pool on `url`; every query and connection attempt is bounded, so a database away fails a call instead of hanging it. */
export function connectStateDb(url: string): StateDb {
  const pool = new pg.Pool({
    connectionString: url,
    max: 5,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 10_000,
    query_timeout: 10_000,
  });
  // An idle client that loses its connection emits here; the pool drops it and the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** The versioned SQL files, in order: `NNNN_what.sql`. */
async function migrations(): Promise<{ version: number; name: string; sql: string }[]> {
  const names = (await readdir(migrationsDir)).filter((name) => migrationFile.test(name)).sort();
  return Promise.all(
    names.map(async (name) => ({
      version: Number(migrationFile.exec(name)![1]),
      name,
      sql: await readFile(path.join(migrationsDir, name), 'utf8'),
    })),
  );
}

/**
 * Applies the migrations the database has not seen, each in its own transaction, under an advisory
 * lock: two processes starting at once apply each migration once, the second waits and finds them
 * done. Returns the names applied by this call.
 */
export async function migrateStateDb(db: StateDb): Promise<string[]> {
  const client = await db.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [migrationLockId]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version integer PRIMARY KEY,
           name text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const done = new Set(
        (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
          (row) => row.version,
        ),
      );
      const applied: string[] = [];
      for (const migration of await migrations()) {
        if (done.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            migration.version,
            migration.name,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new Error(
            `the state database migration ${migration.name} failed: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
        applied.push(migration.name);
      }
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [migrationLockId]);
    }
  } finally {
    client.release();
  }
}

/** Connects to STATE_DB_URL and brings its schema up to date; a process start awaits this. */
export async function openStateDb(url: string): Promise<StateDb> {
  const db = connectStateDb(url);
  try {
    await migrateStateDb(db);
  } catch (error) {
    await db.end().catch(() => undefined);
    throw new Error(`STATE_DB_URL: ${(error as Error).message}`, { cause: error });
  }
  return db;
}
