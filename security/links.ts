// Link tokens for approval, intake and reveal emails (docs/design.md §4). A token is
// `<payload>.<nonce>.<mac>`: the payload names the transition, its run, the request and the expiry so
// the API knows where to send the decision; a 128-bit nonce only the link secret can derive makes it
// unguessable; an HMAC over both stops anyone from pointing it elsewhere. The workflow only ever sees
// the token's SHA-256.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { loadOrCreateKeyFile } from './keys.js';
import path from 'node:path';
import type { LinkPurpose } from '../domain/definitions.js';

export interface LinkClaims {
  /** Workflow id of the transition. */
  transitionId: string;
  /**
   * The run that mailed the link: a link of a finished run never reaches a later run of the same
   * transition. Absent in tokens made before runs were named, which address the latest run.
   */
  runId?: string;
  /** Which request of that transition: an approval request id, or a credential id for intake and reveal. */
  requestId: string;
  purpose: LinkPurpose;
  expiresAt: string;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A short, non-reversible name for a token, for logs. */
export function tokenFingerprint(token: string): string {
  return sha256Hex(token).slice(0, 12);
}

function mac(secret: Buffer, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

/**
 * The nonce of the link mailed under an idempotency key: derived, not random, so a retried activity
 * mails the very link the first attempt may already have sent, and unguessable without the secret.
 */
export function linkNonce(secret: Buffer, idempotencyKey: string): string {
  return mac(secret, `nonce:${idempotencyKey}`).subarray(0, 16).toString('base64url');
}

export function createLinkToken(secret: Buffer, claims: LinkClaims, nonce: string): string {
  const payload = Buffer.from(
    JSON.stringify({
      w: claims.transitionId,
      e: claims.runId,
      r: claims.requestId,
      p: claims.purpose,
      x: claims.expiresAt,
    }),
  ).toString('base64url');
  return `${payload}.${nonce}.${mac(secret, `${payload}.${nonce}`).toString('base64url')}`;
}

/** An expired link still names its transition (its signature holds), so the page can say whom to ask. */
export type LinkCheck =
  | { ok: true; claims: LinkClaims; tokenHash: string }
  | { ok: false; reason: 'expired'; claims: LinkClaims }
  | { ok: false; reason: 'invalid'; claims?: undefined };

/** Verifies the HMAC in constant time, then the purpose and the expiry; never throws on bad input. */
export function verifyLinkToken(
  secret: Buffer,
  token: string,
  purpose: LinkPurpose,
  now = Date.now(),
): LinkCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > 1024) return { ok: false, reason: 'invalid' };
  const [payload, nonce, given] = parts as [string, string, string];
  const expected = mac(secret, `${payload}.${nonce}`);
  const presented = Buffer.from(given, 'base64url');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected))
    return { ok: false, reason: 'invalid' };
  let claims: LinkClaims;
  try {
    const raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, string>;
    claims = {
      transitionId: raw.w!,
      ...(raw.e ? { runId: raw.e } : {}),
      requestId: raw.r!,
      purpose: raw.p as LinkPurpose,
      expiresAt: raw.x!,
    };
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (claims.purpose !== purpose) return { ok: false, reason: 'invalid' };
  if (!(Date.parse(claims.expiresAt) > now)) return { ok: false, reason: 'expired', claims };
  return { ok: true, claims, tokenHash: sha256Hex(token) };
}

/** The form's anti-forgery value: bound to the token, so only someone who loaded the page has it. */
export function csrfValue(secret: Buffer, tokenHash: string): string {
  return mac(secret, `csrf:${tokenHash}`).toString('base64url');
}

export function csrfMatches(secret: Buffer, tokenHash: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfValue(secret, tokenHash));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The HMAC key for links: LINK_SECRET when set (base64, 32+ bytes), else a key generated once into
 * DATA_DIR/keys/link-secret with mode 0600, which the API and the worker share through DATA_DIR.
 */
export async function loadLinkSecret(dataDir: string, fromEnv?: string): Promise<Buffer> {
  if (fromEnv) return Buffer.from(fromEnv, 'base64');
  return loadOrCreateKeyFile(path.join(dataDir, 'keys', 'link-secret'), 32);
}
