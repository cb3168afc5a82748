// The stores a process uses, chosen by config: S3 and PostgreSQL when DOCUMENTS_URL and STATE_DB_URL
// are set (several workers and APIs on several hosts share them), else files under DATA_DIR and the
// API's memory (one host). Opened once at a process start, which fails with the reason when one
// cannot be reached.
import path from 'node:path';
import { createFileLedger, type Ledger } from '../activities/ledger.js';
import { type FailedAttemptCounter, inMemoryFailedAttempts } from '../api/security.js';
import type { Config } from '../config/config.js';
import { createFilesystemConnectionStore } from './connections/filesystem.js';
import type { ConnectionStore } from './connections/port.js';
import { createFilesystemDocumentStore } from './documents/filesystem.js';
import type { DocumentStore } from './documents/port.js';
import { checkWriteOnceBucket, createS3DocumentStore, s3Bucket, s3Client } from './documents/s3.js';
import { stateDbFailedAttempts } from './state-db/failed-link-attempts.js';
import { createStateDbConnectionStore } from './state-db/connections.js';
import { createStateDbLedger } from './state-db/ledger.js';
import { openStateDb } from './state-db/state-db.js';
import type { KeyList } from '../security/key-list.js';
import { createStateDbVault, stateDbVaultRecords } from './state-db/vault.js';
import { createLocalVault, localVaultRecords } from './vault/local.js';
import type { Vault } from './vault/port.js';
import type { VaultRecords } from './vault/rekey.js';

export interface Stores {
  documents: DocumentStore;
  ledger: Ledger;
  /**
   * The vault sealing with the newest of `keys`: the API puts secrets in; the worker reads a
   * connection's secret, and puts a rotated one, inside the automation activity only.
   */
  vault(keys: KeyList): Vault;
  /** Connections to client systems: the API manages them, the worker's automation reads them. */
  connections: ConnectionStore;
  /** Where the API counts failed link attempts (made on first use: only the API counts them). */
  failedLinkAttempts(): FailedAttemptCounter;
  close(): Promise<void>;
}

const localVaultDir = (config: Config) => path.join(config.dataDir, 'vault');

export async function openStores(config: Config): Promise<Stores> {
  const s3 = config.documents ? s3Client(config.documents) : null;
  if (config.documents && s3) await checkWriteOnceBucket(config.documents, s3);
  const documents =
    config.documents && s3
      ? createS3DocumentStore(s3Bucket(config.documents, s3))
      : createFilesystemDocumentStore(path.join(config.dataDir, 'documents'));

  const db = config.stateDbUrl ? await openStateDb(config.stateDbUrl) : null;
  return {
    documents,
    ledger: db ? createStateDbLedger(db) : createFileLedger(path.join(config.dataDir, 'ledger')),
    vault: (keys) => (db ? createStateDbVault(db, keys) : createLocalVault(localVaultDir(config), keys)),
    connections: db
      ? createStateDbConnectionStore(db)
      : createFilesystemConnectionStore(path.join(config.dataDir, 'connections')),
    failedLinkAttempts: () => (db ? stateDbFailedAttempts(db) : inMemoryFailedAttempts()),
    close: async () => {
      s3?.destroy();
      await db?.end();
    },
  };
}

/** Every version of the configured vault (PostgreSQL or files), for `npm run vault:rekey` and `keys:check`. */
export async function openVaultRecords(
  config: Config,
): Promise<{ records: VaultRecords; close(): Promise<void> }> {
  if (!config.stateDbUrl) return { records: localVaultRecords(localVaultDir(config)), close: async () => {} };
  const db = await openStateDb(config.stateDbUrl);
  return { records: stateDbVaultRecords(db), close: () => db.end() };
}
