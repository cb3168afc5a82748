import { createHash } from 'node:crypto';
import { mkdir, open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../connectors/documents/filesystem.js';

/** What became of an effect asked for under an idempotency key. */
export type EffectOutcome =
  /** Done by this call. */
  | 'done'
  /** Done by an earlier attempt, which recorded it. */
  | 'done-earlier'
  /**
   * An earlier attempt claimed the key and never recorded how the effect ended (it crashed, or lost
   * the connection mid-send): the effect may or may not have happened. It is not done again.
   */
  | 'in-doubt';

/** The ledger cannot be read or written; the effect was not started. */
export class LedgerUnavailableError extends Error {}

/**
 * Does side effects at most once per idempotency key, across retries, crashes and concurrent
 * attempts: a durable claim before the effect, the outcome after it. Stores only hashes of keys.
 */
export interface Ledger {
  /**
   * Claims `key`, runs `effect`, records it done. A claim that cannot be written throws before the
   * effect starts. When the effect throws an error `didNothing` recognises, the claim is released so
   * a retry does it; any other error keeps the claim, and the key is in doubt from then on.
   */
  atMostOnce(
    key: string,
    effect: () => Promise<void>,
    didNothing: (error: unknown) => boolean,
  ): Promise<EffectOutcome>;
}

export type EntryState = 'claimed' | 'done' | 'in-doubt';

export function unavailable(what: string, error: unknown): LedgerUnavailableError {
  const reason = error instanceof Error ? error.message : String(error);
  return new LedgerUnavailableError(`the side-effect ledger could not ${what} (${reason})`, { cause: error });
}

/** One file per key under `dir`, named by the key's SHA-256. */
export function createFileLedger(dir: string): Ledger {
  const entry = (state: EntryState) => JSON.stringify({ state, at: new Date().toISOString() });

  async function record(file: string, state: EntryState): Promise<void> {
    await writeFileAtomic(file, entry(state)).catch((error: unknown) => {
      throw unavailable(`record a side effect as ${state}`, error);
    });
  }

  /** Creates the claim durably; null when this call made it, else the state an earlier attempt left. */
  async function claim(file: string): Promise<EntryState | null> {
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw unavailable('create its folder', error);
    });
    let handle: FileHandle;
    try {
      handle = await open(file, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unavailable('claim a side effect', error);
      const text = await readFile(file, 'utf8').catch((readError: unknown) => {
        throw unavailable('read a claim', readError);
      });
      // Anything but a finished record counts as a claim: an unreadable entry is another attempt
      // writing its claim this very moment, and no entry proves that nothing happened.
      try {
        const { state } = JSON.parse(text) as { state?: unknown };
        return state === 'done' || state === 'in-doubt' ? state : 'claimed';
      } catch {
        return 'claimed';
      }
    }
    try {
      await handle.writeFile(entry('claimed'));
      await handle.sync();
      await handle.close();
      // The new name must survive a crash too, or a retry after one would not see the claim.
      const directory = await open(dir, 'r');
      await directory.sync().finally(() => directory.close());
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(file).catch(() => undefined);
      throw unavailable('claim a side effect', error);
    }
    return null;
  }

  return {
    async atMostOnce(key, effect, didNothing) {
      const file = path.join(dir, `${createHash('sha256').update(key).digest('hex')}.json`);
      const earlier = await claim(file);
      if (earlier === 'done') return 'done-earlier';
      if (earlier === 'claimed') await record(file, 'in-doubt');
      if (earlier) return 'in-doubt';
      try {
        await effect();
      } catch (error) {
        if (didNothing(error))
          await unlink(file).catch((unlinkError: unknown) => {
            throw unavailable('release the claim of a side effect that did not happen', unlinkError);
          });
        throw error;
      }
      await record(file, 'done');
      return 'done';
    },
  };
}
