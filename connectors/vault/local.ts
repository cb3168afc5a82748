// The built-in vault (docs/design.md §7): secrets encrypted at rest in files under DATA_DIR.
//
// Each version of a secret is one write-once file `<dir>/<id with / as ~>/v000001.json` holding the
// sealed version (connectors/vault/sealing.ts); the id and version come from the file's place.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadOrCreateKeyFile, publishNewFile, syncDirectory } from '../../security/keys.js';
import { type SecretRef, type Vault, VaultError } from './port.js';
import { checkVaultId as checkId, createSealer, vaultKeyBytes as keyBytes } from './sealing.js';

const versionFile = /^v(\d{6,})\.json$/;

export interface LocalVaultOptions {
  /**
   * Test hook: runs during `put` after the new version's temp file is written and synced, just
   * before it is published under its version number. The crash test kills the process here.
   */
  beforePublish?: () => void;
}

/**
 * A vault in `dir` under the 32-byte `key` (see `loadVaultKey`). Several processes may share `dir`:
 * concurrent puts to one id get distinct versions, and a crash mid-put leaves the earlier versions
 * as they were (at worst an ignored `.tmp-*` file).
 */
export function createLocalVault(dir: string, key: Buffer, options: LocalVaultOptions = {}): Vault {
  const sealer = createSealer(key);

  // `~` cannot occur in an id, so ids map one to one onto flat directory names and an id can never
  // name another id's version files.
  const idDir = (vaultId: string) => path.join(dir, vaultId.replaceAll('/', '~'));
  const fileOf = (vaultId: string, version: number) =>
    path.join(idDir(vaultId), `v${String(version).padStart(6, '0')}.json`);

  /** Stored version numbers, ascending; temp files and anything else are ignored. */
  async function versionsOf(vaultId: string): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(idDir(vaultId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .map((name) => versionFile.exec(name)?.[1])
      .filter((digits): digits is string => digits !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  async function ensureIdDir(vaultId: string): Promise<void> {
    const made = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (made) await syncDirectory(path.dirname(made));
    try {
      await mkdir(idDir(vaultId), { mode: 0o700 });
      await syncDirectory(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }

  /** Reads, authenticates and decrypts one version. */
  async function open(vaultId: string, version: number): Promise<{ ref: SecretRef; secret: string }> {
    let text: string;
    try {
      text = await readFile(fileOf(vaultId, version), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new VaultError('not-found', `vault entry ${vaultId} v${version} does not exist`);
      throw error;
    }
    let stored: unknown;
    try {
      stored = JSON.parse(text);
    } catch {
      throw new VaultError(
        'corrupt',
        `vault entry ${vaultId} v${version} failed its integrity check (not valid JSON)`,
      );
    }
    return sealer.open(vaultId, version, stored);
  }

  return {
    async put(vaultId, secret) {
      const id = checkId(vaultId);
      if (typeof secret !== 'string') throw new TypeError('a vault secret must be a string');
      await ensureIdDir(id);
      let version = 0;
      for (;;) {
        // Another writer may have taken numbers since; never go back below what is stored.
        version = Math.max(version, (await versionsOf(id)).at(-1) ?? 0) + 1;
        const ref = sealer.refFor(id, version, secret);
        const entry = `${JSON.stringify(sealer.seal(ref, secret), null, 2)}\n`;
        // `link` refuses an existing name: when another writer took this number, seal for the next.
        if (await publishNewFile(fileOf(id, version), entry, options.beforePublish)) return ref;
      }
    },

    async get(vaultId, version) {
      const id = checkId(vaultId);
      if (version === undefined) {
        const latest = (await versionsOf(id)).at(-1);
        if (latest === undefined) throw new VaultError('not-found', `no secret is stored under ${id}`);
        return open(id, latest);
      }
      if (!Number.isSafeInteger(version) || version < 1)
        throw new VaultError('not-found', `vault entry ${id} has no version ${String(version)}`);
      return open(id, version);
    },

    /** Authenticates every version: a damaged one throws VaultError('corrupt') naming it. */
    async list(vaultId) {
      const id = checkId(vaultId);
      const refs: SecretRef[] = [];
      for (const version of await versionsOf(id)) refs.push((await open(id, version)).ref);
      return refs;
    },
  };
}

/**
 * The vault key: VAULT_KEY when set (base64 of exactly 32 bytes), else a key generated once into
 * DATA_DIR/keys/vault-key (mode 0600, directory 0700), which the API and the worker share.
 * Losing that file loses every secret in the vault: back it up apart from the vault files.
 */
export async function loadVaultKey(dataDir: string, fromEnv?: string): Promise<Buffer> {
  if (fromEnv) {
    const text = fromEnv.trim();
    const key = Buffer.from(text, 'base64');
    // Canonical base64 only: Buffer.from skips characters it does not know instead of failing.
    if (key.length !== keyBytes || key.toString('base64') !== text)
      throw new Error(
        `VAULT_KEY must be the base64 of exactly ${keyBytes} bytes (make one with \`openssl rand -base64 32\`)`,
      );
    return key;
  }
  return loadOrCreateKeyFile(path.join(dataDir, 'keys', 'vault-key'), keyBytes);
}
