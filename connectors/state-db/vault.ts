// The vault in the state database: every version sealed in this process with the vault key
// (connectors/vault/sealing.ts) before it is written, so the database and its backups hold only
// ciphertext, as the vault files do. Every API process reads the same versions.
import { type Vault, VaultError } from '../vault/port.js';
import { checkVaultId, createSealer, type SealedVersion } from '../vault/sealing.js';
import type { StateDb } from './state-db.js';

/** PostgreSQL's code for a unique violation: another writer took this version number first. */
const uniqueViolation = '23505';

const columns = 'version, created_at AS "createdAt", fingerprint, iv, tag, ciphertext';

/** A vault whose versions are rows of `vault_versions`, sealed under the 32-byte `key`. */
export function createStateDbVault(db: StateDb, key: Buffer): Vault {
  const sealer = createSealer(key);

  async function versions(vaultId: string): Promise<SealedVersion[]> {
    const { rows } = await db.query<SealedVersion>(
      `SELECT ${columns} FROM vault_versions WHERE vault_id = $1 ORDER BY version`,
      [vaultId],
    );
    return rows;
  }

  async function stored(vaultId: string, version?: number): Promise<SealedVersion | undefined> {
    const { rows } =
      version === undefined
        ? await db.query<SealedVersion>(
            `SELECT ${columns} FROM vault_versions WHERE vault_id = $1 ORDER BY version DESC LIMIT 1`,
            [vaultId],
          )
        : await db.query<SealedVersion>(
            `SELECT ${columns} FROM vault_versions WHERE vault_id = $1 AND version = $2`,
            [vaultId, version],
          );
    return rows[0];
  }

  return {
    async put(vaultId, secret) {
      const id = checkVaultId(vaultId);
      if (typeof secret !== 'string') throw new TypeError('a vault secret must be a string');
      for (;;) {
        const latest = await stored(id);
        const ref = sealer.refFor(id, (latest?.version ?? 0) + 1, secret);
        const sealed = sealer.seal(ref, secret);
        try {
          await db.query(
            `INSERT INTO vault_versions (vault_id, version, created_at, fingerprint, iv, tag, ciphertext)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [
              id,
              sealed.version,
              sealed.createdAt,
              sealed.fingerprint,
              sealed.iv,
              sealed.tag,
              sealed.ciphertext,
            ],
          );
          return ref;
        } catch (error) {
          // Another writer took this number: seal for the next one.
          if ((error as { code?: string }).code !== uniqueViolation) throw error;
        }
      }
    },

    async get(vaultId, version) {
      const id = checkVaultId(vaultId);
      if (version !== undefined && (!Number.isSafeInteger(version) || version < 1))
        throw new VaultError('not-found', `vault entry ${id} has no version ${String(version)}`);
      const row = await stored(id, version);
      if (!row)
        throw new VaultError(
          'not-found',
          version === undefined
            ? `no secret is stored under ${id}`
            : `vault entry ${id} v${version} does not exist`,
        );
      return sealer.open(id, row.version, row);
    },

    /** Authenticates every version: a damaged one throws VaultError('corrupt') naming it. */
    async list(vaultId) {
      const id = checkVaultId(vaultId);
      return (await versions(id)).map((row) => sealer.open(id, row.version, row).ref);
    },
  };
}
