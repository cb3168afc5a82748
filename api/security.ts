// Hardening of what the public internet reaches (docs/design.md §4, §7): approval, intake and reveal pages.
import type { RequestHandler } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import helmet from 'helmet';
import { isFailedAttempt } from './public-pages.js';

/** What a page may load: no script at all (the pages have none), no framing, forms to us only. */
export const pageDirectives = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'none'"],
  styleSrc: ["'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  frameSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/**
 * Headers on every answer: the pages' CSP, no MIME sniffing, and no Referer, so a token in a link's
 * path never leaks to another site.
 */
export function securityHeaders(publicUrl: string): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: pageDirectives },
    referrerPolicy: { policy: 'no-referrer' },
    // The codec endpoint answers the Web UI, another origin of the same site.
    crossOriginResourcePolicy: { policy: 'same-site' },
    strictTransportSecurity: publicUrl.startsWith('https:'),
  });
}

/** Failed link attempts (unknown, forged or expired tokens, wrong keys) allowed per IP and minute before 429. */
export const failedLinkAttemptsPerMinute = 20;

/** How long a client's failed attempts are remembered: the window the limit counts in. */
export const failedAttemptWindowMillis = 60_000;

/** Where failed attempts are counted: in this process, or in the state database shared by every API. */
export interface FailedAttemptCounter {
  /** Milliseconds until `address` may try again; 0 when it may now. */
  blockedFor(address: string): Promise<number>;
  record(address: string): Promise<void>;
}

/** Counts in this process's memory: each API process counts on its own. */
export function inMemoryFailedAttempts(): FailedAttemptCounter {
  const failures = new Map<string, { count: number; resetAt: number }>();
  // Windows that ended are forgotten, so the map holds only addresses that failed in the last minute.
  setInterval(() => {
    const now = Date.now();
    for (const [key, window] of failures) if (window.resetAt <= now) failures.delete(key);
  }, failedAttemptWindowMillis).unref();
  return {
    async blockedFor(address) {
      const window = failures.get(address);
      const now = Date.now();
      return window && window.resetAt > now && window.count >= failedLinkAttemptsPerMinute
        ? window.resetAt - now
        : 0;
    },
    async record(address) {
      const current = failures.get(address);
      if (current && current.resetAt > Date.now()) current.count++;
      else failures.set(address, { count: 1, resetAt: Date.now() + failedAttemptWindowMillis });
    },
  };
}

const tooManyAttempts =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too many attempts</title></head>' +
  '<body><h1>Too many attempts</h1><p>Too many invalid links were tried from your address. Wait a minute and open the link from your email again.</p></body></html>';

/**
 * Counts only failed attempts (an unknown, forged or expired token, a wrong key: the pages mark them)
 * per client IP (IPv6 by /56, as express-rate-limit keys them); after 20 within a minute, every
 * request from that address in that minute answers 429. An attempt is counted once its answer says
 * it failed, never while it is in flight: express-rate-limit's skipSuccessfulRequests counts every
 * request as it starts and takes it back when it succeeds, so 50 approvers of one office opening
 * their links at once were refused. A refused press on a real page (already decided, not from its
 * page) does not count. A counter that cannot be reached (the state database away) lets the request
 * through and says so in the log: the limit slows guessing, and the tokens' HMAC is what stops it.
 */
export function linkAttemptLimiter(
  counter: FailedAttemptCounter,
  logger: { warn(details: object, message: string): void },
): RequestHandler {
  const unreachable = (error: unknown) => {
    logger.warn({ err: error }, 'failed link attempts could not be counted');
    return 0;
  };
  return (req, res, next) => {
    const key = ipKeyGenerator(req.ip ?? '');
    void counter
      .blockedFor(key)
      .catch(unreachable)
      .then((waitMillis) => {
        if (waitMillis > 0) {
          res
            .status(429)
            .set('Retry-After', String(Math.ceil(waitMillis / 1000)))
            .type('html')
            .send(tooManyAttempts);
          return;
        }
        res.once('finish', () => {
          if (isFailedAttempt(res)) void counter.record(key).catch(unreachable);
        });
        next();
      });
  };
}
