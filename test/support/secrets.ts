import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';

/** Every byte string in a workflow's history, decoded as UTF-8, so a test can search it for text. */
export async function historyText(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const strings: string[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) strings.push(Buffer.from(value).toString('utf8'));
    else if (typeof value === 'string') strings.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(history);
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
