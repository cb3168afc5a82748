import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../connectors/documents/filesystem.js';

/**
 * Remembers which side effects were done, by idempotency key, so a retried activity does not do
 * them twice. Stores only hashes of keys and whatever small, secret-free result the caller gives.
 */
export interface Ledger {
  once<T>(key: string, effect: () => Promise<T>): Promise<T>;
}

export function createFileLedger(dir: string): Ledger {
  return {
    async once<T>(key: string, effect: () => Promise<T>): Promise<T> {
      const file = path.join(dir, `${createHash('sha256').update(key).digest('hex')}.json`);
      try {
        return (JSON.parse(await readFile(file, 'utf8')) as { result: T }).result;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      const result = await effect();
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(file, JSON.stringify({ result: result ?? null }));
      return result;
    },
  };
}
