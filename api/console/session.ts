// The console's sign-in: a person types their API key once and gets a session cookie (HttpOnly, so
// no script reads it; SameSite=Strict, so no other site's page sends it; only for /console). The
// cookie is signed, not stored: the API stays stateless. It ends after `idleTimeoutMinutes` without
// a request, at the latest `absoluteHours` after sign-in, and at once when its key is removed or
// replaced in API_KEYS, since it carries a fingerprint of the key it was opened with.
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { ApiKey, Role } from '../../config/config.js';
import { hmac, type KeyList, newestKey, signedByAny } from '../../security/key-list.js';
import type { Caller } from '../auth.js';
import { cookieValue, signedCookieCodec } from '../signed-cookie.js';

export const consoleSessionCookie = 'console_session';
export const idleTimeoutMinutes = 30;
const idleTimeoutMillis = idleTimeoutMinutes * 60_000;
const absoluteHours = 12;

export interface ConsoleSession {
  id: string;
  caller: Caller;
  signedInAt: number;
  seenAt: number;
}

interface Claims {
  /** Session id: what each form's CSRF value is bound to. */
  s: string;
  n: string;
  r: Role;
  /** Fingerprint of the key signed in with. */
  k: string;
  i: number;
  t: number;
}

/** Why there is no session: never signed in, or signed in but ended (the page says so). */
export type SessionCheck = { session: ConsoleSession } | { session: null; ended: boolean };

export function createConsoleSessions(linkSecrets: KeyList, publicUrl: string, keys: ApiKey[]) {
  const codec = signedCookieCodec(linkSecrets, 'console-session');
  // Signed with the newest link secret; what an older listed one signed still matches.
  const sign = (data: string) => hmac(newestKey(linkSecrets).key, data).toString('base64url');
  const signed = (data: string, presented: unknown) =>
    typeof presented === 'string' && signedByAny(linkSecrets, data, Buffer.from(presented, 'base64url'));
  const fingerprinted = (key: ApiKey) => `console-key:${key.name}:${key.role}:${key.sha256}`;
  const keyNamed = (name: string) => keys.find((key) => key.name === name);
  const cookieOptions = {
    httpOnly: true,
    sameSite: 'strict',
    secure: publicUrl.startsWith('https:'),
    path: '/console',
  } as const;

  function write(res: Response, session: ConsoleSession): void {
    const key = keyNamed(session.caller.name)!;
    const claims: Claims = {
      s: session.id,
      n: session.caller.name,
      r: session.caller.role,
      k: sign(fingerprinted(key)),
      i: session.signedInAt,
      t: session.seenAt,
    };
    res.cookie(consoleSessionCookie, codec.seal(claims), { ...cookieOptions, maxAge: idleTimeoutMillis });
  }

  return {
    /** Opens a session for a caller the authenticator just recognised. */
    signIn(res: Response, caller: Caller, now = Date.now()): ConsoleSession {
      const session = { id: randomBytes(16).toString('base64url'), caller, signedInAt: now, seenAt: now };
      write(res, session);
      return session;
    },

    /** The request's session, if it is signed, current, and its key still the one in API_KEYS. */
    check(req: Request, now = Date.now()): SessionCheck {
      const value = cookieValue(req, consoleSessionCookie);
      const claims = codec.open<Claims>(value);
      if (!claims) return { session: null, ended: value !== undefined };
      const key = keyNamed(claims.n);
      const current =
        key !== undefined &&
        key.role === claims.r &&
        signed(fingerprinted(key), claims.k) &&
        now - claims.t < idleTimeoutMillis &&
        now - claims.i < absoluteHours * 3_600_000;
      if (!current) return { session: null, ended: true };
      return {
        session: {
          id: claims.s,
          caller: { name: claims.n, role: claims.r },
          signedInAt: claims.i,
          seenAt: claims.t,
        },
      };
    },

    /** Counts a request as use: the idle timeout starts again. */
    renew(res: Response, session: ConsoleSession, now = Date.now()): void {
      write(res, { ...session, seenAt: now });
    },

    signOut(res: Response): void {
      res.clearCookie(consoleSessionCookie, cookieOptions);
    },

    /** The value every form of the session carries: a cross-site page cannot know it. */
    csrf: (session: ConsoleSession) => sign(`console-csrf:${session.id}`),

    csrfMatches: (session: ConsoleSession, presented: unknown): boolean =>
      signed(`console-csrf:${session.id}`, presented),
  };
}

export type ConsoleSessions = ReturnType<typeof createConsoleSessions>;
