// A cookie the browser holds but cannot forge or alter: its claims in base64url JSON and an HMAC
// over them, keyed by the link secret and named by purpose so one cookie never passes for another.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** The raw value of the request's cookie `name`, if it sent one. */
export function cookieValue(req: Request, name: string): string | undefined {
  return (req.get('cookie') ?? '')
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${name}=`))
    ?.slice(name.length + 1);
}

export function signedCookieCodec(secret: Buffer, purpose: string) {
  const mac = (payload: string) => createHmac('sha256', secret).update(`${purpose}:${payload}`).digest();
  return {
    seal(claims: object): string {
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },

    /** The claims of an untampered value; null for anything else (never throws). */
    open<Claims>(value: string | undefined): Claims | null {
      const [payload, given] = value?.split('.') ?? [];
      if (!payload || !given) return null;
      const expected = mac(payload);
      const presented = Buffer.from(given, 'base64url');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null;
      try {
        return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims;
      } catch {
        return null;
      }
    },
  };
}
