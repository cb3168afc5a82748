import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/index.js';
import protos from '@temporalio/proto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CodecError,
  codecKeysFile,
  createEncryptionCodec,
  dataConverterOptions,
  failureConverterPath,
  loadCodecKeys,
  parseCodecKeys,
  type CodecKey,
} from '../../security/payload-codec.js';

const key = (id: string): CodecKey => ({ id, key: randomBytes(32) });
const wire = (payload: Payload) =>
  Buffer.from(protos.temporal.api.common.v1.Payload.encode(payload).finish());
const meta = (payload: Payload | undefined, name: string) =>
  Buffer.from(payload?.metadata?.[name] ?? []).toString('utf8');
const needle = 'vault-ref-plain-needle-4242';
const value = { client: 'acme-dental', note: needle };

describe('encryption codec', () => {
  it('round-trips payloads and marks them binary/encrypted with the key id', async () => {
    const codec = createEncryptionCodec([key('k1')]);
    const original = [defaultPayloadConverter.toPayload(value), defaultPayloadConverter.toPayload(undefined)];
    const encoded = await codec.encode(original);
    expect(encoded).toHaveLength(2);
    expect(Object.keys(encoded[0]!.metadata!).sort()).toEqual(['encoding', 'encryption-key-id']);
    expect(meta(encoded[0], 'encoding')).toBe('binary/encrypted');
    expect(meta(encoded[0], 'encryption-key-id')).toBe('k1');
    // iv + ciphertext of the protobuf-encoded payload + tag
    expect(encoded[0]!.data!.length).toBe(12 + wire(original[0]!).length + 16);

    const decoded = await codec.decode(encoded);
    expect(defaultPayloadConverter.fromPayload(decoded[0]!)).toEqual(value);
    expect(meta(decoded[0], 'encoding')).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(decoded[1]!)).toBeUndefined();
  });

  it('leaves nothing of the plain payload in the encoded bytes, and uses a fresh IV each time', async () => {
    const codec = createEncryptionCodec([key('k1')]);
    const payload = defaultPayloadConverter.toPayload(value);
    expect(wire(payload).includes(needle)).toBe(true);
    const [first, second] = await codec.encode([payload, payload]);
    for (const encoded of [first!, second!]) {
      expect(wire(encoded).includes(needle)).toBe(false);
      expect(wire(encoded).includes('json/plain')).toBe(false);
    }
    expect(Buffer.from(first!.data!).equals(Buffer.from(second!.data!))).toBe(false);
  });

  it('passes payloads that are not binary/encrypted through decode unchanged', async () => {
    const codec = createEncryptionCodec([key('k1')]);
    const plain = defaultPayloadConverter.toPayload(value);
    const [decoded] = await codec.decode([plain]);
    expect(decoded).toBe(plain);
  });

  it('still decodes old payloads after a key is appended, and encodes new ones with the new key', async () => {
    const k1 = key('k1');
    const k2 = key('k2');
    const before = createEncryptionCodec([k1]);
    const [old] = await before.encode([defaultPayloadConverter.toPayload(value)]);

    const after = createEncryptionCodec([k1, k2]);
    const [oldDecoded] = await after.decode([old!]);
    expect(defaultPayloadConverter.fromPayload(oldDecoded!)).toEqual(value);
    const [fresh] = await after.encode([defaultPayloadConverter.toPayload(value)]);
    expect(meta(fresh, 'encryption-key-id')).toBe('k2');
    const [freshDecoded] = await after.decode([fresh!]);
    expect(defaultPayloadConverter.fromPayload(freshDecoded!)).toEqual(value);

    // A process that only knows the old key cannot read the new payloads, and says why.
    await expect(before.decode([fresh!])).rejects.toThrow(CodecError);
  });

  it('fails clearly on an unknown key id', async () => {
    const [encoded] = await createEncryptionCodec([key('old-key')]).encode([
      defaultPayloadConverter.toPayload(value),
    ]);
    const other = createEncryptionCodec([key('k2')]);
    await expect(other.decode([encoded!])).rejects.toThrow(CodecError);
    await expect(other.decode([encoded!])).rejects.toThrow(/unknown codec key id "old-key" \(known: k2\)/);
  });

  it('rejects a payload with one flipped byte in the IV, the ciphertext or the tag', async () => {
    const codec = createEncryptionCodec([key('k1')]);
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
    const data = Buffer.from(encoded!.data!);
    for (const index of [0, 11, 12, data.length - 17, data.length - 16, data.length - 1]) {
      const altered = Buffer.from(data);
      altered[index] = altered[index]! ^ 0x01;
      await expect(codec.decode([{ ...encoded!, data: altered }])).rejects.toThrow(
        /failed authentication under codec key "k1"/,
      );
    }
    await expect(codec.decode([{ ...encoded!, data: data.subarray(0, 20) }])).rejects.toThrow(/too short/);
  });

  it('refuses bad key lists', () => {
    expect(() => createEncryptionCodec([])).toThrow(/at least one key/);
    expect(() => createEncryptionCodec([{ id: 'k1', key: randomBytes(16) }])).toThrow(/16 bytes/);
    expect(() => createEncryptionCodec([key('k1'), key('k1')])).toThrow(/more than once/);
    expect(() => createEncryptionCodec([key('K1')])).toThrow(/key id/);
  });
});

describe('parseCodecKeys', () => {
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');

  it('reads id:base64key entries, newest last', () => {
    const keys = parseCodecKeys(` k20260101:${k1} ,\nk20260301-b:${k2}\n`);
    expect(keys.map((entry) => entry.id)).toEqual(['k20260101', 'k20260301-b']);
    expect(keys[0]!.key.equals(Buffer.from(k1, 'base64'))).toBe(true);
    expect(keys[1]!.key).toHaveLength(32);
  });

  it.each([
    ['', /^CODEC_KEYS: no keys/],
    [k1, /^CODEC_KEYS: entry 1 is not id:base64key$/],
    [`k1:${k1},${k2}`, /^CODEC_KEYS: entry 2 is not id:base64key$/],
    [`${k1.slice(0, 20)}:${k1.slice(20)}`, /^CODEC_KEYS: entry 1 has an invalid key id/],
    [`Key_1:${k1}`, /^CODEC_KEYS: entry 1 has an invalid key id/],
    [`${'k'.repeat(33)}:${k1}`, /^CODEC_KEYS: entry 1 has an invalid key id/],
    [`k1:${k1.slice(0, 20)}!${k1.slice(21)}`, /^CODEC_KEYS: entry 1 \(key "k1"\) is not base64$/],
    [
      `k1:${randomBytes(16).toString('base64')}`,
      /^CODEC_KEYS: entry 1 \(key "k1"\) decodes to 16 bytes; expected 32/,
    ],
    [`k1:${k1},k1:${k2}`, /^CODEC_KEYS: entry 2: key id "k1" appears more than once$/],
  ])('rejects %j with a message naming CODEC_KEYS and never the key', (input, message) => {
    let thrown: unknown;
    try {
      parseCodecKeys(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    const text = (thrown as Error).message;
    expect(text).toMatch(message);
    for (const secret of [k1, k2, k1.slice(0, 20), k1.slice(21)]) expect(text).not.toContain(secret);
  });
});

describe('loadCodecKeys', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'codec-keys-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('uses CODEC_KEYS when set and writes no file', async () => {
    const dir = await tempDir();
    const keys = await loadCodecKeys(dir, `env-key:${randomBytes(32).toString('base64')}`);
    expect(keys.map((entry) => entry.id)).toEqual(['env-key']);
    expect(existsSync(codecKeysFile(dir))).toBe(false);
  });

  it('generates one dated key into a private file, keeps it, and reads appended keys as newer', async () => {
    const dir = await tempDir();
    const [first, ...rest] = await loadCodecKeys(dir);
    expect(rest).toEqual([]);
    expect(first!.id).toMatch(/^k\d{8}$/);
    expect(first!.key).toHaveLength(32);
    const file = codecKeysFile(dir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);

    const again = await loadCodecKeys(dir, '');
    expect(again).toEqual([first]);

    await appendFile(file, `k29991231:${randomBytes(32).toString('base64')}\n`);
    const rotated = await loadCodecKeys(dir);
    expect(rotated.map((entry) => entry.id)).toEqual([first!.id, 'k29991231']);
    expect(await readFile(file, 'utf8')).toMatch(/^# /);
  });

  it('names the file when it is broken', async () => {
    const dir = await tempDir();
    await loadCodecKeys(dir);
    await appendFile(codecKeysFile(dir), 'not-a-key\n');
    await expect(loadCodecKeys(dir)).rejects.toThrow(`${codecKeysFile(dir)}: entry 2 is not id:base64key`);
  });
});

describe('dataConverterOptions', () => {
  it('gives the codec and a failure converter the SDK can load that encodes messages and stacks', async () => {
    const options = dataConverterOptions([key('k1')]);
    expect(options.failureConverterPath).toBe(failureConverterPath);
    // What Client and Worker do with the options (the worker requires the path in the main thread).
    const loaded = loadDataConverter(options);
    const failure = loaded.failureConverter.errorToFailure(
      new Error(`cannot reach ${needle}`),
      loaded.payloadConverter,
    );
    expect(failure.message).not.toContain(needle);
    expect(failure.stackTrace ?? '').not.toContain(needle);
    const [encrypted] = await options.payloadCodecs[0]!.encode([failure.encodedAttributes!]);
    expect(wire(encrypted!).includes(needle)).toBe(false);
    const [decrypted] = await options.payloadCodecs[0]!.decode([encrypted!]);
    expect(loaded.payloadConverter.fromPayload(decrypted!)).toMatchObject({
      message: `cannot reach ${needle}`,
    });
  });
});
