// The built-in vault (docs/design.md §7): secrets encrypted at rest in files under DATA_DIR.
//
// Each version of a secret is one file `<dir>/<id with / as ~>/v000001.json` holding the sealed
// version (connectors/vault/sealing.ts); the id and version come from the file's place. A version is
// written once; only `npm run vault:rekey` replaces it, with the same secret sealed under a newer key.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeyList } from '../../security/key-list.js';
import { publishNewFile, replaceFile, syncDirectory } from '../../security/keys.js';
import { type SecretRef, type Vault, VaultError } from './port.js';
import type { VaultRecords } from './rekey.js';
import { checkVaultId as checkId, createSealer } from './sealing.js';

const versionFile = /^v(\d{6,})\.json$/;

// `~` cannot occur in an id, so ids map one to one onto flat directory names and an id can never
// name another id's version files.
const idDir = (dir: string, vaultId: string) => path.join(dir, vaultId.replaceAll('/', '~'));
const fileOf = (dir: string, vaultId: string, version: number) =>
  path.join(idDir(dir, vaultId), `v${String(version).padStart(6, '0')}.json`);

/** Stored version numbers, ascending; temp files and anything else are ignored. */
async function versionsOf(dir: string, vaultId: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(idDir(dir, vaultId));
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

/** One version as stored (anything: the sealer authenticates it). */
async function readVersion(dir: string, vaultId: string, version: number): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(fileOf(dir, vaultId, version), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new VaultError('not-found', `vault entry ${vaultId} v${version} does not exist`);
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new VaultError(
      'corrupt',
      `vault entry ${vaultId} v${version} failed its integrity check (not valid JSON)`,
    );
  }
}

const entryText = (sealed: object) => `${JSON.stringify(sealed, null, 2)}\n`;

export interface LocalVaultOptions {
  /**
   * Test hook: runs during `put` after the new version's temp file is written and synced, just
   * before it is published under its version number. The crash test kills the process here.
   */
  beforePublish?: () => void;
}

/**
 * A vault in `dir` sealing under the newest of `keys` (see `loadVaultKeys`). Several processes may
 * share `dir`: concurrent puts to one id get distinct versions, and a crash mid-put leaves the earlier
 * versions as they were (at worst an ignored `.tmp-*` file).
 */
export function createLocalVault(dir: string, keys: KeyList, options: LocalVaultOptions = {}): Vault {
  const sealer = createSealer(keys);

  async function ensureIdDir(vaultId: string): Promise<void> {
    const made = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (made) await syncDirectory(path.dirname(made));
    try {
      await mkdir(idDir(dir, vaultId), { mode: 0o700 });
      await syncDirectory(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }

  /** Reads, authenticates and decrypts one version. */
  const open = async (vaultId: string, version: number) =>
    sealer.open(vaultId, version, await readVersion(dir, vaultId, version));

  return {
    async put(vaultId, secret) {
      const id = checkId(vaultId);
      if (typeof secret !== 'string') throw new TypeError('a vault secret must be a string');
      await ensureIdDir(id);
      let version = 0;
      for (;;) {
        // Another writer may have taken numbers since; never go back below what is stored.
        version = Math.max(version, (await versionsOf(dir, id)).at(-1) ?? 0) + 1;
        const ref = sealer.refFor(id, version, secret);
        const entry = entryText(sealer.seal(ref, secret));
        // `link` refuses an existing name: when another writer took this number, seal for the next.
        if (await publishNewFile(fileOf(dir, id, version), entry, options.beforePublish)) return ref;
      }
    },

    async get(vaultId, version) {
      const id = checkId(vaultId);
      if (version === undefined) {
        const latest = (await versionsOf(dir, id)).at(-1);
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
      for (const version of await versionsOf(dir, id)) refs.push((await open(id, version)).ref);
      return refs;
    },
  };
}

/** Every version in the vault files under `dir`, for the rekey and the key check. */
export function localVaultRecords(dir: string): VaultRecords {
  return {
    async *all() {
      const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      const ids = entries
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name.replaceAll('~', '/'));
      for (const vaultId of ids.sort())
        for (const version of await versionsOf(dir, vaultId)) {
          // A file that is not JSON is passed on as nothing: opening it then names it corrupt.
          const sealed = await readVersion(dir, vaultId, version).catch((error: unknown) => {
            if (error instanceof VaultError) return undefined;
            throw error;
          });
          yield { vaultId, version, sealed };
        }
    },

    // Versions never change content, so a replace racing another rekey's writes the same secret.
    async replace(vaultId, sealed) {
      await replaceFile(fileOf(dir, vaultId, sealed.version), entryText(sealed));
    },
  };
}
