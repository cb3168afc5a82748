// Temporal's Web UI calls the codec endpoint from the browser and cannot send an API key: it sends
// cookies ("include cross-origin credentials"). An operator or auditor therefore exchanges their key
// once for a signed, short-lived cookie scoped to /codec. Only the codec routes accept it.
import type { Request, Response } from 'express';
import type { Role } from '../config/config.js';
import type { KeyList } from '../security/key-list.js';
import type { Caller } from './auth.js';
import { cookieValue, signedCookieCodec } from './signed-cookie.js';

export const codecSessionCookie = 'codec_session';
const lifetimeSeconds = 8 * 3600;

export function createCodecSessions(linkSecrets: KeyList, publicUrl: string) {
  const codec = signedCookieCodec(linkSecrets, 'codec-session');
  const secure = publicUrl.startsWith('https:');

  return {
    lifetimeSeconds,

    /** Sets the session cookie for `caller`: HttpOnly, SameSite=Lax, only sent to /codec. */
    issue(res: Response, caller: Caller, now = Date.now()): void {
      const value = codec.seal({ n: caller.name, r: caller.role, x: now + lifetimeSeconds * 1000 });
      res.cookie(codecSessionCookie, value, {
        httpOnly: true,
        sameSite: 'lax',
        secure,
        path: '/codec',
        maxAge: lifetimeSeconds * 1000,
      });
    },

    /** The caller a valid, unexpired session cookie names; null otherwise (never throws). */
    callerOf(req: Request, now = Date.now()): Caller | null {
      const claims = codec.open<{ n: string; r: Role; x: number }>(cookieValue(req, codecSessionCookie));
      return claims && claims.x > now ? { name: claims.n, role: claims.r } : null;
    },
  };
}

export type CodecSessions = ReturnType<typeof createCodecSessions>;
