// The key check finds every codec key an archive's payloads name, so a key is never dropped while
// an archive still needs it.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeHistory } from '../../audit/history-codec.js';
import { archiveKeyUsage, filesystemArchives } from '../../security/archive-keys.js';
import { createEncryptionCodec } from '../../security/payload-codec.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'msp-archive-keys-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const key = (id: string) => ({ id, key: Buffer.alloc(32, id.length) });

/** An archive whose start input was encrypted under `startKey` and a later signal under `laterKey`. */
async function archive(relative: string, startKey: string, laterKey: string) {
  const [input] = await createEncryptionCodec([key(startKey)]).encode([{ data: Buffer.from('"start"') }]);
  const [signal] = await createEncryptionCodec([key(laterKey)]).encode([{ data: Buffer.from('"signal"') }]);
  const history = {
    events: [
      { eventId: 1, workflowExecutionStartedEventAttributes: { input: { payloads: [input] } } },
      { eventId: 2, workflowExecutionSignaledEventAttributes: { input: { payloads: [signal] } } },
    ],
  };
  const file = path.join(dir, relative, 'archive', 'history.binpb');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, encodeHistory(history as never));
}

it('names every key the archives use, with the archives that use it', async () => {
  await archive('offboarding-a/run-1', 'k2026a', 'k2026a');
  await archive('offboarding-b/run-2', 'k2026a', 'k2027b');
  await archive('onboarding-c', 'k2027b', 'k2027b');
  const usage = await archiveKeyUsage(filesystemArchives(dir));
  expect(Object.fromEntries([...usage].map(([id, files]) => [id, files.sort()]))).toEqual({
    k2026a: ['offboarding-a/run-1/archive/history.binpb', 'offboarding-b/run-2/archive/history.binpb'],
    k2027b: ['offboarding-b/run-2/archive/history.binpb', 'onboarding-c/archive/history.binpb'],
  });
});
