import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { decode } from '@temporalio/common/lib/internal-non-workflow/index.js';

const utf8 = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
const isPayload = (value: object): value is Payload => 'data' in value && value.data instanceof Uint8Array;

/**
 * Every byte string in a workflow's history as UTF-8, so a test can search it for text. With
 * `decoded` (the default) payloads go through the client's codec first, as an authorised reader sees
 * them; without it, they are what anyone with access to the Temporal server reads.
 */
export async function historyText(
  client: Client,
  workflowId: string,
  { decoded = true } = {},
): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const codecs = decoded ? client.options.loadedDataConverter.payloadCodecs : [];
  const strings: string[] = [];
  const walk = async (value: unknown): Promise<void> => {
    if (value instanceof Uint8Array) strings.push(utf8(value));
    else if (typeof value === 'string') strings.push(value);
    else if (Array.isArray(value)) for (const item of value) await walk(item);
    else if (value && typeof value === 'object') {
      if (codecs.length && isPayload(value)) {
        const [plain] = await decode(codecs, [value]);
        for (const bytes of [...Object.values(plain?.metadata ?? {}), plain?.data ?? new Uint8Array()])
          strings.push(utf8(bytes));
        return;
      }
      for (const item of Object.values(value)) await walk(item);
    }
  };
  await walk(history);
  return strings.join('\n');
}

/** Files under `dir` (recursively) whose bytes contain `needle`, skipping the folders named in `except`. */
export async function filesContaining(dir: string, needle: string, except: string[] = []): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (except.some((folder) => file.startsWith(path.join(dir, folder) + path.sep))) continue;
    if ((await readFile(file)).includes(needle)) found.push(path.relative(dir, file));
  }
  return found;
}
