// Failed link attempts counted in the state database, so every API process behind a load balancer
// counts toward the same limit per address.
import {
  type FailedAttemptCounter,
  failedAttemptWindowMillis,
  failedLinkAttemptsPerMinute,
} from '../../api/security.js';
import type { StateDb } from './state-db.js';

const window = `${failedAttemptWindowMillis} milliseconds`;

export function stateDbFailedAttempts(db: StateDb): FailedAttemptCounter {
  // Windows that ended are forgotten, so the table holds only addresses that failed in the last minute.
  setInterval(() => {
    db.query('DELETE FROM failed_link_attempts WHERE resets_at <= now()').catch(() => undefined);
  }, failedAttemptWindowMillis).unref();
  return {
    async blockedFor(address) {
      const { rows } = await db.query<{ wait: string }>(
        `SELECT ceil(extract(epoch FROM resets_at - now()) * 1000) AS wait FROM failed_link_attempts
         WHERE address = $1 AND resets_at > now() AND attempts >= $2`,
        [address, failedLinkAttemptsPerMinute],
      );
      return rows[0] ? Math.max(1, Number(rows[0].wait)) : 0;
    },
    async record(address) {
      // One statement: concurrent failures from one address on several APIs all count.
      await db.query(
        `INSERT INTO failed_link_attempts (address, attempts, resets_at) VALUES ($1, 1, now() + $2::interval)
         ON CONFLICT (address) DO UPDATE SET
           attempts = CASE WHEN failed_link_attempts.resets_at > now() THEN failed_link_attempts.attempts + 1 ELSE 1 END,
           resets_at = CASE WHEN failed_link_attempts.resets_at > now() THEN failed_link_attempts.resets_at ELSE excluded.resets_at END`,
        [address, window],
      );
    },
  };
}
