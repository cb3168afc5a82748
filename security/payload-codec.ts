// Encryption of every Temporal payload (docs/design.md §7): workflow inputs and results, activity inputs and
// results, signals, updates, queries, memos and, with the failure converter beside this file,
// failure messages and stack traces. The Temporal server and anyone reading its database see only
// `binary/encrypted` payloads; the API's codec endpoint decrypts them for the Web UI and the CLI.
//
// A payload is encrypted with AES-256-GCM under the newest key (the last in the list) with a random
// 12-byte IV; its metadata names the key id, so after a rotation old payloads still decrypt with
// their own key for as long as the key stays in the list.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  METADATA_ENCODING_KEY,
  type DataConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import protos from '@temporalio/proto';
import {
  exactBase64,
  keyIdPattern,
  keyListProblems,
  type KeyList,
  type KeyListFormat,
  type NamedKey,
  parseKeyList,
  shownKeyId,
} from './key-list.js';
import { publishNewFile } from './keys.js';

/** Its id is stored in each payload's metadata; the key is 32 bytes (AES-256). */
export type CodecKey = NamedKey;

export const encryptedEncoding = 'binary/encrypted';
export const keyIdMetadataKey = 'encryption-key-id';

const keyLength = 32;
const ivLength = 12;
const tagLength = 16;
const ProtoPayload = protos.temporal.api.common.v1.Payload;

/** A payload the codec cannot decrypt: unknown key id, missing metadata, or altered bytes. */
export class CodecError extends Error {
  override name = 'CodecError';
}

const utf8 = (bytes: Uint8Array | null | undefined) =>
  bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : undefined;

/**
 * The payload codec for the Client, the Worker and the codec endpoint. Encode uses the last key;
 * decode picks the key named in the payload's `encryption-key-id` and leaves payloads that are not
 * `binary/encrypted` unchanged (histories written before encryption was turned on stay readable).
 *
 * A decode failure inside the worker fails the workflow task, which Temporal retries: a missing
 * key can be added and the workers restarted without losing the run.
 */
export function createEncryptionCodec(keys: KeyList): PayloadCodec {
  const byId = new Map<string, Buffer>();
  for (const { id, key } of keys) {
    if (!keyIdPattern.test(id))
      throw new Error(`codec key id ${shownKeyId(id)} must be 1-32 of a-z, 0-9 and -`);
    if (key.length !== keyLength) {
      throw new Error(`codec key "${id}" has ${key.length} bytes; AES-256-GCM needs ${keyLength}`);
    }
    if (byId.has(id)) throw new Error(`codec key id "${id}" appears more than once`);
    byId.set(id, key);
  }
  const newest = keys.at(-1);
  if (!newest) throw new Error('the payload codec needs at least one key');

  const encrypt = (payload: Payload): Payload => {
    const iv = randomBytes(ivLength);
    const cipher = createCipheriv('aes-256-gcm', newest.key, iv, { authTagLength: tagLength });
    const plain = ProtoPayload.encode(payload).finish();
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(encryptedEncoding),
        [keyIdMetadataKey]: Buffer.from(newest.id),
      },
      data: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
    };
  };

  const decrypt = (payload: Payload): Payload => {
    const metadata = payload.metadata ?? {};
    if (utf8(metadata[METADATA_ENCODING_KEY]) !== encryptedEncoding) return payload;
    const keyId = utf8(metadata[keyIdMetadataKey]);
    if (!keyId) throw new CodecError(`an encrypted payload has no ${keyIdMetadataKey} metadata`);
    const key = byId.get(keyId);
    if (!key) {
      throw new CodecError(
        `an encrypted payload names the unknown codec key id ${shownKeyId(keyId)} (known: ${[...byId.keys()].join(', ')}); ` +
          'add that key to CODEC_KEYS or DATA_DIR/keys/codec-keys of every worker and API process',
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < ivLength + tagLength) {
      throw new CodecError(`an encrypted payload under key "${keyId}" is too short to be one`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, ivLength), {
      authTagLength: tagLength,
    });
    decipher.setAuthTag(data.subarray(data.length - tagLength));
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(data.subarray(ivLength, data.length - tagLength)),
        decipher.final(),
      ]);
    } catch {
      throw new CodecError(
        `an encrypted payload failed authentication under codec key "${keyId}": ` +
          'it was altered, or encrypted with a different key of that id',
      );
    }
    return ProtoPayload.decode(plain);
  };

  return {
    async encode(payloads) {
      return payloads.map(encrypt);
    },
    async decode(payloads) {
      return payloads.map(decrypt);
    },
  };
}

const codecKeyFormat = (source: string): KeyListFormat => ({
  source,
  decode: exactBase64(keyLength, { canonical: false }),
  example: 'id:base64key[,id:base64key...] with the newest last',
  lines: true,
});

/** What is wrong with a CODEC_KEYS value, one line per bad entry; [] when it is valid. */
export const codecKeysProblems = (value: string) => keyListProblems(value, codecKeyFormat('CODEC_KEYS'));

/**
 * Parses `id1:base64key,id2:base64key` (newest last). Entries may also be separated by newlines,
 * and lines starting with `#` are comments (the key file uses both). Errors name `source` and the
 * entry, never the key material.
 */
export function parseCodecKeys(value: string, source = 'CODEC_KEYS'): KeyList {
  return parseKeyList(value, codecKeyFormat(source));
}

export const codecKeysFile = (dataDir: string) => path.join(dataDir, 'keys', 'codec-keys');

const keyFileHeader = `# Temporal payload codec keys: one id:base64key per line, the newest LAST (it encrypts new payloads).
# Every worker and API process must read the same list. Keep a key as long as any history within the
# namespace retention holds payloads encrypted under it.
# Rotate: add a new line "k<yyyymmdd>:<openssl rand -base64 32>" ABOVE the current last line and
# restart every process (they can now decrypt it); then move it to the end and restart again (they now
# encrypt with it). Appending it at the end in one step also works, but until every process has
# restarted, the ones not yet restarted fail (and Temporal retries) tasks carrying the new key's payloads.
`;

/**
 * The codec keys: CODEC_KEYS when set, else DATA_DIR/keys/codec-keys (mode 0600 in a 0700 dir),
 * generated on first use with one key `k<yyyymmdd>`. To rotate without CODEC_KEYS, add a line to
 * that file (the file's header explains how) and restart the worker and the API: they share the file
 * through DATA_DIR, like the link secret.
 */
export async function loadCodecKeys(dataDir: string, fromEnv?: string): Promise<KeyList> {
  if (fromEnv?.trim()) return parseCodecKeys(fromEnv);
  const file = codecKeysFile(dataDir);
  const read = async () => parseCodecKeys(await readFile(file, 'utf8'), file);
  try {
    return await read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
  // Published whole or not at all (a process starting at the same moment never reads a half-written
  // file); when another process made it first, theirs is used.
  await publishNewFile(file, `${keyFileHeader}${id}:${randomBytes(keyLength).toString('base64')}\n`);
  return read();
}

/**
 * Where the SDK finds `failureConverter` (security/failure-converter): the .ts source when running
 * from source (tsx, vitest), the .js file when running the build.
 */
export const failureConverterPath = fileURLToPath(
  new URL(`./failure-converter${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/**
 * The `dataConverter` for `new Client(...)`, `Worker.create(...)` and the test environment's client:
 * the encryption codec, plus the failure converter that moves failure messages and stack traces into
 * an (encrypted) payload. The SDK takes the failure converter only as a module path; a worker built
 * from `workflowsPath` also bundles it into the workflow sandbox, while a prebuilt bundle needs
 * `bundleWorkflowCode({ workflowsPath, failureConverterPath })`.
 */
export function dataConverterOptions(keys: KeyList) {
  return {
    payloadCodecs: [createEncryptionCodec(keys)],
    failureConverterPath,
  } satisfies DataConverter;
}
