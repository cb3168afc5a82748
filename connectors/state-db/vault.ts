// The vault in the state database: every version sealed in this process with the vault key
// (connectors/vault/sealing.ts) before it is written, so the database and its backups hold only
// ciphertext, as the vault files do. Every API process reads the same versions.
import type { KeyList } from '../../security/key-list.js';
import { type Vault, VaultError } from '../vault/port.js';
import type { VaultRecords } from '../vault/rekey.js';
import { checkVaultId, createSealer, type SealedVersion } from '../vault/sealing.js';
import type { StateDb } from './state-db.js';

/** PostgreSQL's code for a unique violation: another writer took this version number first. */
const uniqueViolation = '23505';

const columns = 'version, created_at AS "createdAt", fingerprint, key_id AS "keyId", iv, tag, ciphertext';

/** A vault whose versions are rows of `vault_versions`, sealed under the newest of `keys`. */
export function createStateDbVault(db: StateDb, keys: KeyList): Vault {
  const sealer = createSealer(keys);

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
            `INSERT INTO vault_versions (vault_id, version, created_at, fingerprint, key_id, iv, tag, ciphertext)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [
              id,
              sealed.version,
              sealed.createdAt,
              sealed.fingerprint,
              sealed.keyId,
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

/** Every row of `vault_versions`, for the rekey and the key check. */
export function stateDbVaultRecords(db: StateDb): VaultRecords {
  return {
    async *all() {
      // Keyset pages: the table may hold more rows than are worth reading at once.
      let after: [string, number] = ['', 0];
      for (;;) {
        const { rows } = await db.query<SealedVersion & { vaultId: string }>(
          `SELECT vault_id AS "vaultId", ${columns} FROM vault_versions
           WHERE (vault_id, version) > ($1, $2) ORDER BY vault_id, version LIMIT 500`,
          after,
        );
        for (const { vaultId, ...sealed } of rows) yield { vaultId, version: sealed.version, sealed };
        const last = rows.at(-1);
        if (!last) return;
        after = [last.vaultId, last.version];
      }
    },

    // One statement per version: the row holds the old seal or the new, never neither. Versions never
    // change content, so an update racing another rekey's writes the same secret.
    async replace(vaultId, sealed) {
      await db.query(
        'UPDATE vault_versions SET key_id = $3, iv = $4, tag = $5, ciphertext = $6 WHERE vault_id = $1 AND version = $2',
        [vaultId, sealed.version, sealed.keyId, sealed.iv, sealed.tag, sealed.ciphertext],
      );
    },
  };
}
