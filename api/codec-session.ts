// Temporal's Web UI calls the codec endpoint from the browser and cannot send an API key: it sends
// cookies ("include cross-origin credentials"). An operator or auditor therefore exchanges their key
// once for a signed, short-lived cookie scoped to /codec. Only the codec routes accept it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Role } from '../config/config.js';
import type { Caller } from './auth.js';

export const codecSessionCookie = 'codec_session';
const lifetimeSeconds = 8 * 3600;

export function createCodecSessions(secret: Buffer, publicUrl: string) {
  const mac = (payload: string) => createHmac('sha256', secret).update(`codec-session:${payload}`).digest();
  const secure = publicUrl.startsWith('https:');

  return {
    lifetimeSeconds,

    /** Sets the session cookie for `caller`: HttpOnly, SameSite=Lax, only sent to /codec. */
    issue(res: Response, caller: Caller, now = Date.now()): void {
      const payload = Buffer.from(
        JSON.stringify({ n: caller.name, r: caller.role, x: now + lifetimeSeconds * 1000 }),
      ).toString('base64url');
      res.cookie(codecSessionCookie, `${payload}.${mac(payload).toString('base64url')}`, {
        httpOnly: true,
        sameSite: 'lax',
        secure,
        path: '/codec',
        maxAge: lifetimeSeconds * 1000,
      });
    },

    /** The caller a valid, unexpired session cookie names; null otherwise (never throws). */
    callerOf(req: Request, now = Date.now()): Caller | null {
      const cookie = (req.get('cookie') ?? '')
        .split(';')
        .map((part) => part.trim())
        .find((part) => part.startsWith(`${codecSessionCookie}=`))
        ?.slice(codecSessionCookie.length + 1);
      const [payload, given] = cookie?.split('.') ?? [];
      if (!payload || !given) return null;
      const expected = mac(payload);
      const presented = Buffer.from(given, 'base64url');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null;
      try {
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
          n: string;
          r: Role;
          x: number;
        };
        return claims.x > now ? { name: claims.n, role: claims.r } : null;
      } catch {
        return null;
      }
    },
  };
}

export type CodecSessions = ReturnType<typeof createCodecSessions>;
