// Key lists with ids, newest last: the form of CODEC_KEYS, VAULT_KEY and LINK_SECRET, so that a key
// can be replaced without downtime. The newest key encrypts or signs; every listed key still decrypts
// or verifies, until the operator removes it once nothing needs it any more.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface NamedKey {
  /** `[a-z0-9-]{1,32}`; stored with what the key encrypted, so it must never change for a key. */
  id: string;
  key: Buffer;
}

/** At least one key, the newest last. */
export type KeyList = readonly NamedKey[];

/** How one variable (or key file) writes its keys. */
export interface KeyListFormat {
  /** Names the variable or file in errors. */
  source: string;
  /**
   * The id of an entry written without `id:`, so that a plain single value keeps the meaning it had
   * before lists. Unset, every entry needs its id.
   */
  implicitId?: string;
  /** The key's bytes, or why the text is not a key (never quoting it). */
  decode(text: string): Buffer | { problem: string };
  /** What a list of this variable looks like, for the message when it holds none. */
  example: string;
  /**
   * Entries may also be one per line, with `#` comment lines (the codec key file). Unset, a newline
   * is part of the entry: a plain secret `openssl rand -base64` wrapped over two lines keeps working.
   */
  lines?: boolean;
}

export const keyIdPattern = /^[a-z0-9-]{1,32}$/;

/** A key id as an error shows it: it comes from stored data, so it is quoted and cut short. */
export const shownKeyId = (keyId: string) =>
  JSON.stringify(keyId.length > 40 ? `${keyId.slice(0, 40)}...` : keyId);

/** Base64 of exactly `bytes` bytes, as `openssl rand -base64 <bytes>` prints it. */
export function exactBase64(bytes: number, { canonical }: { canonical: boolean }) {
  return (text: string): Buffer | { problem: string } => {
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return { problem: 'is not base64' };
    const key = Buffer.from(text, 'base64');
    if (key.length !== bytes)
      return {
        problem: `decodes to ${key.length} bytes; expected ${bytes} (openssl rand -base64 ${bytes})`,
      };
    // Buffer.from quietly drops what it cannot decode: a key that does not encode back was mistyped.
    if (canonical && key.toString('base64') !== text) return { problem: 'is not canonical base64' };
    return key;
  };
}

/** The keys of `value` and what is wrong with it, one problem per bad entry (never quoting key material). */
function readKeyList(value: string, format: KeyListFormat): { keys: NamedKey[]; problems: string[] } {
  const lines = format.lines ? value.split('\n').filter((line) => !line.trim().startsWith('#')) : [value];
  const entries = lines
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return { keys: [], problems: [`no keys; expected ${format.example}`] };
  const keys: NamedKey[] = [];
  const problems: string[] = [];
  entries.forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0 && format.implicitId === undefined) {
      problems.push(`${where} is not id:base64key`);
      return;
    }
    const id = colon < 0 ? format.implicitId! : entry.slice(0, colon).trim();
    // An id that does not look like one may be key material pasted in the wrong place: not echoed.
    if (!keyIdPattern.test(id)) {
      problems.push(`${where} has an invalid key id (expected 1-32 of a-z, 0-9 and -)`);
      return;
    }
    const key = format.decode(entry.slice(colon + 1).trim());
    if (!Buffer.isBuffer(key)) {
      problems.push(`${where} (key "${id}") ${key.problem}`);
      return;
    }
    if (keys.some((known) => known.id === id)) {
      const implicit = id === format.implicitId ? ` (an entry without an id is "${id}")` : '';
      problems.push(`${where}: key id "${id}" appears more than once${implicit}`);
      return;
    }
    keys.push({ id, key });
  });
  return { keys, problems };
}

/** What is wrong with `value`, one line per bad entry; [] when it is a valid list. */
export function keyListProblems(value: string, format: KeyListFormat): string[] {
  return readKeyList(value, format).problems;
}

/** Parses `id:key,id:key` (newest last); throws naming `format.source` and each bad entry. */
export function parseKeyList(value: string, format: KeyListFormat): KeyList {
  const { keys, problems } = readKeyList(value, format);
  if (problems.length > 0)
    throw new Error(problems.map((problem) => `${format.source}: ${problem}`).join('; '));
  return keys;
}

/** The key that encrypts and signs: the last. */
export function newestKey(keys: KeyList): NamedKey {
  const newest = keys.at(-1);
  if (!newest) throw new Error('a key list needs at least one key');
  return newest;
}

/** HMAC-SHA256 of `data` under `key`. */
export function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/**
 * Whether `presented` is the HMAC of `data` under any listed key, each compared in constant time: the
 * newest key signs, and what an older one signed verifies until that key is removed.
 */
export function signedByAny(keys: KeyList, data: string, presented: Buffer): boolean {
  return keys.some(({ key }) => {
    const expected = hmac(key, data);
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  });
}
