// Which payload codec keys the history archives still need. Archives keep payloads as Temporal stored
// them, encrypted; a key dropped from CODEC_KEYS while an archive uses it makes that audit unreadable.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeHistory } from '../audit/history-codec.js';
import { historyArchiveName } from '../domain/activity-contracts.js';
import type { ObjectBucket } from '../connectors/documents/s3.js';
import { keyIdMetadataKey } from './payload-codec.js';

/** Every codec key id named by a payload anywhere in the value (a decoded history). */
export function keyIdsIn(value: unknown, found = new Set<string>()): Set<string> {
  if (!value || typeof value !== 'object') return found;
  if (ArrayBuffer.isView(value)) return found;
  const metadata = (value as { metadata?: Record<string, Uint8Array> | null }).metadata;
  const keyId = metadata?.[keyIdMetadataKey];
  if (keyId) found.add(Buffer.from(keyId).toString('utf8'));
  for (const child of Object.values(value)) keyIdsIn(child, found);
  return found;
}

/** A stored history archive: where it is (for the report) and its bytes. */
export interface StoredArchive {
  name: string;
  bytes: Buffer;
}

async function archivesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await archivesUnder(full)));
    else if (entry.name === historyArchiveName) found.push(full);
  }
  return found;
}

/** The archives under a documents folder (DATA_DIR/documents), named by their path in it. */
export async function* filesystemArchives(documentsDir: string): AsyncIterable<StoredArchive> {
  for (const file of await archivesUnder(documentsDir))
    yield { name: path.relative(documentsDir, file), bytes: await readFile(file) };
}

/** The archives in a document bucket (DOCUMENTS_URL), named by their key under its prefix. */
export async function* bucketArchives(bucket: ObjectBucket): AsyncIterable<StoredArchive> {
  for (const key of await bucket.keys(''))
    if (key.endsWith(`/archive/${historyArchiveName}`)) {
      const bytes = await bucket.get(key);
      if (bytes) yield { name: key, bytes };
    }
}

/** For each key id, the archives whose payloads use it. */
export async function archiveKeyUsage(
  archives: AsyncIterable<StoredArchive>,
): Promise<Map<string, string[]>> {
  const usage = new Map<string, string[]>();
  for await (const archive of archives) {
    for (const keyId of keyIdsIn(decodeHistory(archive.bytes))) {
      usage.set(keyId, [...(usage.get(keyId) ?? []), archive.name]);
    }
  }
  return usage;
}
