// Hardening of what the public internet reaches (docs/design.md §4, §7): approval, intake and reveal pages.
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
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

/**
 * Counts only failed attempts (an unknown, forged or expired token, a wrong key: the pages mark them)
 * per client IP; the 21st within a minute, and every request after it in that minute, answers 429.
 * A refused press on a real page (already decided, not from its page) does not count. Kept in
 * memory: each API process counts on its own.
 */
export function linkAttemptLimiter(): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: failedLinkAttemptsPerMinute,
    requestWasSuccessful: (_req, res) => !isFailedAttempt(res),
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => {
      res
        .status(429)
        .type('html')
        .send(
          '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too many attempts</title></head>' +
            '<body><h1>Too many attempts</h1><p>Too many invalid links were tried from your address. Wait a minute and open the link from your email again.</p></body></html>',
        );
    },
  });
}
