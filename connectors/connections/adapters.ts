// From a stored connection and its secret to the adapter that reaches the system: the one place that
// knows which port each connection type serves.
import { createResticBackups, type ResticOptions } from '../backups/restic.js';
import type { Backups } from '../backups/port.js';
import { createS3Storage } from '../objects/s3.js';
import type { ObjectStorage } from '../objects/port.js';
import { createPostgresDatabase } from '../databases/postgres.js';
import type { Database } from '../databases/port.js';
import type { Directory } from '../directory/port.js';
import { createLdapDirectory } from '../directory/ldap.js';
import { ConnectorError, notConfigured } from '../failures.js';
import type { Host } from '../hosts/port.js';
import { createSshHost, sshLogin } from '../hosts/ssh.js';
import type { Connection } from './port.js';

export type Adapter =
  | { type: 'ssh'; host: Host }
  | { type: 'ldap'; directory: Directory }
  | { type: 'postgres'; database: Database }
  | { type: 'restic'; backups: Backups }
  | { type: 's3'; storage: ObjectStorage };

/** What an adapter may need beyond its connection: for now, a restic run's progress and keys. */
export type AdapterOptions = Pick<ResticOptions, 'onProgress' | 'signal' | 's3Credentials'>;

export function adapterOf(connection: Connection, secret: string, options: AdapterOptions = {}): Adapter {
  switch (connection.type) {
    case 'ssh':
      return { type: 'ssh', host: createSshHost(connection, secret) };
    case 'ldap':
      return { type: 'ldap', directory: createLdapDirectory(connection, secret) };
    case 'postgres':
      return { type: 'postgres', database: createPostgresDatabase(connection, secret) };
    case 'restic':
      return { type: 'restic', backups: createResticBackups(connection, secret, options) };
    case 's3':
      return { type: 's3', storage: createS3Storage(connection, secret) };
  }
}

/** A connection and its secret, found by id (by the worker inside an activity, or by the API's check). */
export type ConnectionLookup = (id: string) => Promise<{ connection: Connection; secret: string }>;

/**
 * The keys an `s3:` restic repository is reached with: those of the `s3` connection it names, read
 * from the vault like any secret. None for a repository on a path.
 */
export async function resticS3Credentials(
  connection: Connection,
  lookup: ConnectionLookup,
): Promise<ResticOptions['s3Credentials']> {
  if (connection.type !== 'restic' || !connection.settings.s3Connection) return undefined;
  const { connection: keys, secret } = await lookup(connection.settings.s3Connection);
  if (keys.type !== 's3')
    throw notConfigured(
      `connection ${keys.id} is of type ${keys.type}, not s3 (the keys of ${connection.id})`,
    );
  return { accessKeyId: keys.settings.accessKeyId, secretAccessKey: secret };
}

/** Why `secret` cannot serve a connection of `type`, or null (a private key that does not parse, say). */
export function secretProblem(type: Connection['type'], secret: string): string | null {
  if (type !== 'ssh') return null;
  try {
    sshLogin(secret);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function checkOf(adapter: Adapter): () => Promise<{ detail: string }> {
  switch (adapter.type) {
    case 'ssh':
      return () => adapter.host.check();
    case 'ldap':
      return () => adapter.directory.check();
    case 'postgres':
      return () => adapter.database.check();
    case 'restic':
      return () => adapter.backups.check();
    case 's3':
      return () => adapter.storage.check();
  }
}

/** A real round trip to the system: `ok` with what was found, or not with why (never a secret). */
export async function checkConnection(
  connection: Connection,
  secret: string,
  lookup: ConnectionLookup,
): Promise<{ ok: boolean; detail: string; checkedAt: string }> {
  try {
    const s3Credentials = await resticS3Credentials(connection, lookup);
    const adapter = adapterOf(connection, secret, s3Credentials ? { s3Credentials } : {});
    const { detail } = await checkOf(adapter)();
    return { ok: true, detail, checkedAt: new Date().toISOString() };
  } catch (error) {
    if (!(error instanceof ConnectorError)) throw error;
    return { ok: false, detail: `${error.type}: ${error.message}`, checkedAt: new Date().toISOString() };
  }
}
