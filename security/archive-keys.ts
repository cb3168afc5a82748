// Which payload codec keys the history archives still need. Archives keep payloads as Temporal stored
// them, encrypted; a key dropped from CODEC_KEYS while an archive uses it makes that audit unreadable.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeHistory } from '../audit/history-codec.js';
import { historyArchiveName } from '../domain/activity-contracts.js';
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

/** For each key id, the archives (paths under the documents folder) whose payloads use it. */
export async function archiveKeyUsage(documentsDir: string): Promise<Map<string, string[]>> {
  const usage = new Map<string, string[]>();
  for (const file of await archivesUnder(documentsDir)) {
    for (const keyId of keyIdsIn(decodeHistory(await readFile(file)))) {
      usage.set(keyId, [...(usage.get(keyId) ?? []), path.relative(documentsDir, file)]);
    }
  }
  return usage;
}
