// How the vault seals a version of a secret, whatever stores it (docs/design.md §7).
//
// A version is { version, createdAt, fingerprint, keyId, iv, tag, ciphertext }. The secret is sealed with
// AES-256-GCM under a fresh 12-byte IV; the vault id, the version (both from where the record is kept,
// not from its content), the creation time and the fingerprint are authenticated with it, so a record
// edited, or copied to another id or version, fails its integrity check instead of yielding someone
// else's secret. Encryption and fingerprint keys are separate HKDF subkeys of a 32-byte vault key.
//
// New versions are sealed under the newest vault key and name its id; a version names the key that
// opens it, so after a rotation the older versions open under their own key until `npm run
// vault:rekey` seals them under the newest. A version written before versions named their key has no
// keyId and opens under the key of the implicit id. The key id is not authenticated: naming another
// key only makes authentication fail.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { type KeyList, type NamedKey, newestKey, shownKeyId } from '../../security/key-list.js';
import { type SecretRef, VaultError } from './port.js';
import { implicitVaultKeyId, vaultKeyBytes } from './vault-keys.js';

const ivBytes = 12;
const tagBytes = 16;
const maxIdLength = 200;
const idPattern = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;
/** Names what the additional authenticated data means, so a future format cannot be confused with it. */
const aadLabel = 'msp-runbooks/vault/v1';

/** A version as stored; binary fields are base64. */
export interface SealedVersion {
  version: number;
  createdAt: string;
  fingerprint: string;
  /** The id of the vault key that sealed it; absent in versions sealed before versions named it. */
  keyId?: string | null;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Throws VaultError('invalid-id') unless `vaultId` is lowercase segments joined by `/`. */
export function checkVaultId(vaultId: unknown): string {
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
  return Buffer.from(
    hkdfSync('sha256', key, Buffer.alloc(0), `msp-runbooks vault ${purpose}`, vaultKeyBytes),
  );
}

function additionalData(ref: SecretRef): Buffer {
  return Buffer.from(JSON.stringify([aadLabel, ref.vaultId, ref.version, ref.createdAt, ref.fingerprint]));
}

function isBase64(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value);
}

/** The id of the vault key a stored version names, or undefined when it is not a vault entry at all. */
export function sealedUnder(stored: unknown): string | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const { keyId } = stored as Partial<SealedVersion>;
  return typeof keyId === 'string' ? keyId : implicitVaultKeyId;
}

export interface Sealer {
  /** The id of the key new versions are sealed under: the newest. */
  readonly newestKeyId: string;
  /** A new version's reference (not stored yet): its fingerprint and creation time. */
  refFor(vaultId: string, version: number, secret: string): SecretRef;
  seal(ref: SecretRef, secret: string): SealedVersion;
  /**
   * Authenticates and decrypts what is stored as `version` of `vaultId` (`stored` as read: anything).
   * Throws VaultError('corrupt') naming the version when it does not hold, and
   * VaultError('key-missing') when the key it names is not listed.
   */
  open(vaultId: string, version: number, stored: unknown): { ref: SecretRef; secret: string };
}

interface Subkeys {
  id: string;
  encryption: Buffer;
  fingerprint: Buffer;
}

function subkeysOf({ id, key }: NamedKey): Subkeys {
  if (key.length !== vaultKeyBytes)
    throw new Error(`vault key "${id}" must be ${vaultKeyBytes} bytes, not ${key.length}`);
  return { id, encryption: subkey(key, 'encryption'), fingerprint: subkey(key, 'fingerprint') };
}

/** Seals versions under the newest of the 32-byte vault `keys`, and opens them under any. */
export function createSealer(keys: KeyList): Sealer {
  const byId = new Map(keys.map((key) => [key.id, subkeysOf(key)]));
  const newest = byId.get(newestKey(keys).id)!;

  return {
    newestKeyId: newest.id,

    refFor(vaultId, version, secret) {
      const fingerprint = createHmac('sha256', newest.fingerprint)
        .update(secret, 'utf8')
        .digest('hex')
        .slice(0, 16);
      return { vaultId, version, fingerprint, createdAt: new Date().toISOString() };
    },

    seal(ref, secret) {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', newest.encryption, iv, { authTagLength: tagBytes });
      cipher.setAAD(additionalData(ref));
      const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return {
        version: ref.version,
        createdAt: ref.createdAt,
        fingerprint: ref.fingerprint,
        keyId: newest.id,
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        ciphertext: ciphertext.toString('base64'),
      };
    },

    open(vaultId, version, value) {
      const corrupt = (reason: string) =>
        new VaultError(
          'corrupt',
          `vault entry ${vaultId} v${version} failed its integrity check (${reason})`,
        );
      if (typeof value !== 'object' || value === null) throw corrupt('not a vault entry');
      const stored = value as Partial<SealedVersion>;
      if (stored.version !== version) throw corrupt('its version field does not match its place');
      if (typeof stored.createdAt !== 'string' || typeof stored.fingerprint !== 'string')
        throw corrupt('createdAt or fingerprint missing');
      if (!isBase64(stored.iv) || !isBase64(stored.tag) || !isBase64(stored.ciphertext))
        throw corrupt('iv, tag or ciphertext missing or not base64');
      const iv = Buffer.from(stored.iv, 'base64');
      const tag = Buffer.from(stored.tag, 'base64');
      if (iv.length !== ivBytes || tag.length !== tagBytes) throw corrupt('iv or tag of the wrong length');
      const keyId = sealedUnder(stored)!;
      const key = byId.get(keyId);
      if (!key)
        throw new VaultError(
          'key-missing',
          `vault entry ${vaultId} v${version} is sealed under vault key ${shownKeyId(keyId)}, which VAULT_KEY does not list ` +
            `(listed: ${[...byId.keys()].join(', ')}); add that key back to every worker and API process`,
        );
      const ref: SecretRef = {
        vaultId,
        version,
        fingerprint: stored.fingerprint,
        createdAt: stored.createdAt,
      };
      let plaintext: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.encryption, iv, { authTagLength: tagBytes });
        decipher.setAAD(additionalData(ref));
        decipher.setAuthTag(tag);
        plaintext = Buffer.concat([
          decipher.update(Buffer.from(stored.ciphertext, 'base64')),
          decipher.final(),
        ]);
      } catch {
        throw corrupt(
          `authentication failed under vault key ${shownKeyId(keyId)}: the record was altered or moved, or that key differs`,
        );
      }
      return { ref, secret: plaintext.toString('utf8') };
    },
  };
}
