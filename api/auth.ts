import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { ApiKey, Role } from '../config/config.js';
import { HttpError } from './errors.js';

export interface Caller {
  name: string;
  role: Role;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Looks keys up by comparing SHA-256 digests in constant time, so timing says nothing about a key. */
export function createAuthenticator(keys: ApiKey[]) {
  const known = keys.map((key) => ({
    name: key.name,
    role: key.role,
    digest: Buffer.from(key.sha256, 'hex'),
  }));
  return (presented: string): Caller | null => {
    const candidate = digest(presented);
    let found: Caller | null = null;
    for (const key of known) {
      if (timingSafeEqual(key.digest, candidate)) found = { name: key.name, role: key.role };
    }
    return found;
  };
}

/**
 * Requires a bearer key (or, where a route allows it, what `fallback` finds, such as a session
 * cookie) whose role is one of `roles`: 401 without a valid key, 403 with the wrong role.
 */
export function requireRole(
  authenticate: (key: string) => Caller | null,
  roles: Role[],
  fallback?: (req: Parameters<RequestHandler>[0]) => Caller | null,
): RequestHandler {
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const caller = match ? authenticate(match[1]!) : (fallback?.(req) ?? null);
    if (!caller) {
      res.set('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'unauthorized', 'a valid API key is required (Authorization: Bearer <key>)');
    }
    if (!roles.includes(caller.role)) {
      throw new HttpError(
        403,
        'forbidden',
        `the ${caller.role} role may not do this; it needs ${roles.join(' or ')}`,
      );
    }
    res.locals.caller = caller;
    next();
  };
}
