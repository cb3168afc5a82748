// The built-in vault (docs/design.md §7): secrets encrypted at rest in files under DATA_DIR.
//
// Each version of a secret is one write-once file `<dir>/<id with / as ~>/v000001.json` holding
// { version, createdAt, fingerprint, iv, tag, ciphertext }. The secret is sealed with AES-256-GCM
// under a fresh 12-byte IV; the vault id, the version (both from the file's place, not its content),
// the creation time and the fingerprint are authenticated with it, so a file edited, or copied to
// another id or version, fails its integrity check instead of yielding someone else's secret.
// Encryption and fingerprint keys are separate HKDF subkeys of the one 32-byte vault key.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadOrCreateKeyFile, publishNewFile, syncDirectory } from '../../security/keys.js';
import { type SecretRef, type Vault, VaultError } from './port.js';

const keyBytes = 32;
const ivBytes = 12;
const tagBytes = 16;
const maxIdLength = 200;
const idPattern = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;
const versionFile = /^v(\d{6,})\.json$/;
/** Names what the additional authenticated data means, so a future format cannot be confused with it. */
const aadLabel = 'msp-runbooks/vault/v1';

export interface LocalVaultOptions {
  /**
   * Test hook: runs during `put` after the new version's temp file is written and synced, just
   * before it is published under its version number. The crash test kills the process here.
   */
  beforePublish?: () => void;
}

/** A version as stored on disk; binary fields are base64. */
interface StoredVersion {
  version: number;
  createdAt: string;
  fingerprint: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Throws VaultError('invalid-id') unless `vaultId` is lowercase segments joined by `/`. */
function checkId(vaultId: unknown): string {
  // The id is not echoed: with arguments swapped by mistake it could be the secret.
  if (
    typeof vaultId !== 'string' ||
    vaultId.length === 0 ||
    vaultId.length > maxIdLength ||
    !idPattern.test(vaultId) ||
    vaultId.split('/').some((segment) => segment === '..' || segment === '.')
  )
    throw new VaultError(
      'invalid-id',
      `a vault id is 1 to ${maxIdLength} characters: segments of a-z 0-9 . _ - joined by /, each starting with a letter or digit`,
    );
  return vaultId;
}

function subkey(key: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `msp-runbooks vault ${purpose}`, keyBytes));
}

function additionalData(ref: SecretRef): Buffer {
  return Buffer.from(JSON.stringify([aadLabel, ref.vaultId, ref.version, ref.createdAt, ref.fingerprint]));
}

function isBase64(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value);
}

/**
 * A vault in `dir` under the 32-byte `key` (see `loadVaultKey`). Several processes may share `dir`:
 * concurrent puts to one id get distinct versions, and a crash mid-put leaves the earlier versions
 * as they were (at worst an ignored `.tmp-*` file).
 */
export function createLocalVault(dir: string, key: Buffer, options: LocalVaultOptions = {}): Vault {
  if (key.length !== keyBytes) throw new Error(`the vault key must be ${keyBytes} bytes, not ${key.length}`);
  const encryptionKey = subkey(key, 'encryption');
  const fingerprintKey = subkey(key, 'fingerprint');

  // `~` cannot occur in an id, so ids map one to one onto flat directory names and an id can never
  // name another id's version files.
  const idDir = (vaultId: string) => path.join(dir, vaultId.replaceAll('/', '~'));
  const fileOf = (vaultId: string, version: number) =>
    path.join(idDir(vaultId), `v${String(version).padStart(6, '0')}.json`);

  const fingerprintOf = (secret: string) =>
    createHmac('sha256', fingerprintKey).update(secret, 'utf8').digest('hex').slice(0, 16);

  function seal(ref: SecretRef, secret: string): StoredVersion {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv, { authTagLength: tagBytes });
    cipher.setAAD(additionalData(ref));
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return {
      version: ref.version,
      createdAt: ref.createdAt,
      fingerprint: ref.fingerprint,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  }

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
    const name = `vault entry ${vaultId} v${version}`;
    let text: string;
    try {
      text = await readFile(fileOf(vaultId, version), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new VaultError('not-found', `${name} does not exist`);
      throw error;
    }
    const corrupt = (reason: string) =>
      new VaultError('corrupt', `${name} failed its integrity check (${reason})`);
    let stored: Partial<StoredVersion>;
    try {
      stored = JSON.parse(text) as Partial<StoredVersion>;
    } catch {
      throw corrupt('not valid JSON');
    }
    if (typeof stored !== 'object' || stored === null) throw corrupt('not a vault entry');
    if (stored.version !== version) throw corrupt('its version field does not match its file name');
    if (typeof stored.createdAt !== 'string' || typeof stored.fingerprint !== 'string')
      throw corrupt('createdAt or fingerprint missing');
    if (!isBase64(stored.iv) || !isBase64(stored.tag) || !isBase64(stored.ciphertext))
      throw corrupt('iv, tag or ciphertext missing or not base64');
    const iv = Buffer.from(stored.iv, 'base64');
    const tag = Buffer.from(stored.tag, 'base64');
    if (iv.length !== ivBytes || tag.length !== tagBytes) throw corrupt('iv or tag of the wrong length');
    const ref: SecretRef = { vaultId, version, fingerprint: stored.fingerprint, createdAt: stored.createdAt };
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', encryptionKey, iv, { authTagLength: tagBytes });
      decipher.setAAD(additionalData(ref));
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([
        decipher.update(Buffer.from(stored.ciphertext, 'base64')),
        decipher.final(),
      ]);
    } catch {
      throw corrupt('authentication failed: the file was altered or moved, or the vault key differs');
    }
    return { ref, secret: plaintext.toString('utf8') };
  }

  return {
    async put(vaultId, secret) {
      const id = checkId(vaultId);
      if (typeof secret !== 'string') throw new TypeError('a vault secret must be a string');
      await ensureIdDir(id);
      const fingerprint = fingerprintOf(secret);
      let version = 0;
      for (;;) {
        // Another writer may have taken numbers since; never go back below what is stored.
        version = Math.max(version, (await versionsOf(id)).at(-1) ?? 0) + 1;
        const ref: SecretRef = { vaultId: id, version, fingerprint, createdAt: new Date().toISOString() };
        const entry = `${JSON.stringify(seal(ref, secret), null, 2)}\n`;
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
