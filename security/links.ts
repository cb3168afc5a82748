// Link tokens for approval, intake and reveal emails (docs/design.md §4). A token is
// `<payload>.<nonce>.<mac>`: the payload names the transition, its run, the request and the expiry so
// the API knows where to send the decision; a 128-bit nonce only the link secret can derive makes it
// unguessable; an HMAC over both stops anyone from pointing it elsewhere. The workflow only ever sees
// the token's SHA-256.
//
// LINK_SECRET lists secrets with ids, newest last: links are signed with the newest and verified with
// any listed, so a secret can be replaced while the links mailed under the old one are still out.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { LinkPurpose } from '../domain/definitions.js';
import {
  hmac,
  type KeyList,
  type KeyListFormat,
  keyListProblems,
  newestKey,
  parseKeyList,
  signedByAny,
} from './key-list.js';
import { loadOrCreateKeyFile } from './keys.js';

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

/**
 * The nonce of the link mailed under an idempotency key: derived, not random, so a retried activity
 * mails the very link the first attempt may already have sent, and unguessable without the secret.
 */
export function linkNonce(secrets: KeyList, idempotencyKey: string): string {
  return hmac(newestKey(secrets).key, `nonce:${idempotencyKey}`).subarray(0, 16).toString('base64url');
}

/** A token signed with the newest secret. */
export function createLinkToken(secrets: KeyList, claims: LinkClaims, nonce: string): string {
  const payload = Buffer.from(
    JSON.stringify({
      w: claims.transitionId,
      e: claims.runId,
      r: claims.requestId,
      p: claims.purpose,
      x: claims.expiresAt,
    }),
  ).toString('base64url');
  const signature = hmac(newestKey(secrets).key, `${payload}.${nonce}`).toString('base64url');
  return `${payload}.${nonce}.${signature}`;
}

/** An expired link still names its transition (its signature holds), so the page can say whom to ask. */
export type LinkCheck =
  | { ok: true; claims: LinkClaims; tokenHash: string }
  | { ok: false; reason: 'expired'; claims: LinkClaims }
  | { ok: false; reason: 'invalid'; claims?: undefined };

/**
 * Verifies the HMAC under each listed secret in constant time, then the purpose and the expiry; never
 * throws on bad input.
 */
export function verifyLinkToken(
  secrets: KeyList,
  token: string,
  purpose: LinkPurpose,
  now = Date.now(),
): LinkCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > 1024) return { ok: false, reason: 'invalid' };
  const [payload, nonce, given] = parts as [string, string, string];
  if (!signedByAny(secrets, `${payload}.${nonce}`, Buffer.from(given, 'base64url')))
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

/**
 * The form's anti-forgery value: bound to the token, so only someone who loaded the page has it.
 * Signed with the newest secret; one a page showed under an older listed secret still matches.
 */
export function csrfValue(secrets: KeyList, tokenHash: string): string {
  return hmac(newestKey(secrets).key, `csrf:${tokenHash}`).toString('base64url');
}

export function csrfMatches(secrets: KeyList, tokenHash: string, presented: unknown): boolean {
  return (
    typeof presented === 'string' &&
    signedByAny(secrets, `csrf:${tokenHash}`, Buffer.from(presented, 'base64url'))
  );
}

const linkSecretBytes = 32;

/** The id of a secret written without one: a plain LINK_SECRET, or DATA_DIR/keys/link-secret. */
const implicitLinkSecretId = 'l0';

const linkSecretFormat: KeyListFormat = {
  source: 'LINK_SECRET',
  implicitId: implicitLinkSecretId,
  // Decoded as LINK_SECRET always was, so a value that worked keeps working and keeps its links valid.
  decode(text) {
    const secret = Buffer.from(text, 'base64');
    return secret.length >= linkSecretBytes
      ? secret
      : {
          problem: `decodes to ${secret.length} bytes; expected at least ${linkSecretBytes}, base64-encoded (openssl rand -base64 32)`,
        };
  },
  example: 'a base64 secret, or id:base64secret[,id:base64secret...] with the newest last',
};

/** What is wrong with a LINK_SECRET value, one line per bad entry; [] when it is valid. */
export const linkSecretProblems = (value: string) => keyListProblems(value, linkSecretFormat);

/**
 * The HMAC keys for links and session cookies: LINK_SECRET when set (base64, 32+ bytes each), else
 * one generated once into DATA_DIR/keys/link-secret with mode 0600, which the API and the worker
 * share through DATA_DIR.
 */
export async function loadLinkSecrets(dataDir: string, fromEnv?: string): Promise<KeyList> {
  if (fromEnv) return parseKeyList(fromEnv, linkSecretFormat);
  const key = await loadOrCreateKeyFile(path.join(dataDir, 'keys', 'link-secret'), linkSecretBytes);
  return [{ id: implicitLinkSecretId, key }];
}
