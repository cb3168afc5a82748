// A cookie the browser holds but cannot forge or alter: its claims in base64url JSON and an HMAC
// over them, keyed by the link secret and named by purpose so one cookie never passes for another.
// Sealed with the newest link secret; a cookie sealed under an older listed one still opens.
import type { Request } from 'express';
import { hmac, type KeyList, newestKey, signedByAny } from '../security/key-list.js';

/** The raw value of the request's cookie `name`, if it sent one. */
export function cookieValue(req: Request, name: string): string | undefined {
  return (req.get('cookie') ?? '')
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${name}=`))
    ?.slice(name.length + 1);
}

export function signedCookieCodec(secrets: KeyList, purpose: string) {
  return {
    seal(claims: object): string {
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${payload}.${hmac(newestKey(secrets).key, `${purpose}:${payload}`).toString('base64url')}`;
    },

    /** The claims of an untampered value; null for anything else (never throws). */
    open<Claims>(value: string | undefined): Claims | null {
      const [payload, given] = value?.split('.') ?? [];
      if (!payload || !given) return null;
      if (!signedByAny(secrets, `${purpose}:${payload}`, Buffer.from(given, 'base64url'))) return null;
      try {
        return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims;
      } catch {
        return null;
      }
    },
  };
}
