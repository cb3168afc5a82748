// The side-effect ledger in the state database: the same claim, effect, record as the file ledger
// (activities/ledger.ts), shared by every worker, so a retry on another host finds the claim.
import { createHash } from 'node:crypto';
import { type EntryState, type Ledger, unavailable } from '../../activities/ledger.js';
import type { StateDb } from './state-db.js';

/** One row per key, named by the key's SHA-256. */
export function createStateDbLedger(db: StateDb): Ledger {
  async function query(what: string, sql: string, values: unknown[]) {
    try {
      return await db.query<{ state: EntryState }>(sql, values);
    } catch (error) {
      throw unavailable(what, error);
    }
  }

  /** Inserts the claim; null when this call made it, else the state an earlier attempt left. */
  async function claim(keyHash: string): Promise<EntryState | null> {
    const made = await query(
      'claim a side effect',
      `INSERT INTO side_effect_ledger (key_sha256, state) VALUES ($1, 'claimed')
       ON CONFLICT (key_sha256) DO NOTHING RETURNING state`,
      [keyHash],
    );
    if (made.rowCount === 1) return null;
    const found = await query('read a claim', 'SELECT state FROM side_effect_ledger WHERE key_sha256 = $1', [
      keyHash,
    ]);
    // Released between the two statements: the effect certainly did not happen, so claim it again.
    return found.rows[0]?.state ?? claim(keyHash);
  }

  const record = (keyHash: string, state: EntryState) =>
    query(
      `record a side effect as ${state}`,
      'UPDATE side_effect_ledger SET state = $2, updated_at = now() WHERE key_sha256 = $1',
      [keyHash, state],
    );

  return {
    async atMostOnce(key, effect, didNothing) {
      const keyHash = createHash('sha256').update(key).digest('hex');
      const earlier = await claim(keyHash);
      if (earlier === 'done') return 'done-earlier';
      if (earlier === 'claimed') await record(keyHash, 'in-doubt');
      if (earlier) return 'in-doubt';
      try {
        await effect();
      } catch (error) {
        if (didNothing(error))
          await query(
            'release the claim of a side effect that did not happen',
            "DELETE FROM side_effect_ledger WHERE key_sha256 = $1 AND state = 'claimed'",
            [keyHash],
          );
        throw error;
      }
      await record(keyHash, 'done');
      return 'done';
    },
  };
}
