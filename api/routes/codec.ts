// The codec endpoint (docs/design.md §7): Temporal's Web UI and the `temporal` CLI send encrypted payloads
// here to show them decrypted, and plain ones to have them encrypted (when a person starts or
// signals a workflow from the UI). The wire shape is the Codec Server protocol: POST <endpoint>/decode
// and <endpoint>/encode with `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }`, the same
// shape back. Configure the endpoint as `<PUBLIC_URL>/codec`.
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { RequestHandler, Response } from 'express';
import { z } from 'zod';
import { CodecError } from '../../security/payload-codec.js';
import { HttpError } from '../errors.js';
import type { TemplateRenderer } from '../../templates/render.js';
import type { Caller } from '../auth.js';
import type { CodecSessions } from '../codec-session.js';
import { countAsFailedAttempt, isCrossOrigin, sendPublicPage, type MspIdentity } from '../public-pages.js';
import type { ApiRoutes } from '../routes.js';

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'expected base64');

/** A Payload in proto JSON: bytes as base64 (the server's JSON uses standard base64; url-safe is accepted too). */
const jsonPayload = z.object({
  metadata: z.record(z.string(), base64).nullish(),
  data: base64.nullish(),
});

export const codecBody = z.object({ payloads: z.array(jsonPayload) });

type JsonPayload = z.output<typeof jsonPayload>;

const bytes = (value: string) => Buffer.from(value, 'base64');
const text = (value: Uint8Array) =>
  Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');

function fromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, bytes(value)])),
    ...(data ? { data: bytes(data) } : {}),
  };
}

/** Empty bytes are left out, as proto JSON does. */
function toJson({ metadata, data }: Payload) {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, text(value)])),
    ...(data?.length ? { data: text(data) } : {}),
  };
}

const codecPaths = ['/codec/encode', '/codec/decode'];

/** The Codec Server protocol routes, for the operator and auditor roles (a key, or the session cookie). */
export function codecRoutes(routes: ApiRoutes, deps: { codec: PayloadCodec }) {
  const tag = 'codec';
  const responses = {
    200: 'The payloads, in the same order',
    400: 'Invalid body, or a payload that cannot be decrypted',
    401: 'No valid API key',
    403: 'Wrong role',
  };
  routes.add(
    {
      method: 'post',
      path: '/codec/encode',
      summary: 'Encrypt payloads (Temporal Codec Server protocol)',
      roles: ['operator', 'auditor'],
      codecSession: true,
      body: codecBody,
      responses,
      tag,
    },
    async ({ body }) => ({ payloads: (await deps.codec.encode(body.payloads.map(fromJson))).map(toJson) }),
  );
  routes.add(
    {
      method: 'post',
      path: '/codec/decode',
      summary: 'Decrypt payloads (Temporal Codec Server protocol)',
      roles: ['operator', 'auditor'],
      codecSession: true,
      body: codecBody,
      responses,
      tag,
    },
    async ({ body }) => {
      try {
        return { payloads: (await deps.codec.decode(body.payloads.map(fromJson))).map(toJson) };
      } catch (error) {
        if (error instanceof CodecError) throw new HttpError(400, 'undecodable_payload', error.message);
        throw error;
      }
    },
  );
}

/**
 * CORS for the codec routes, so the Web UI at `webUiOrigin` (and only there) may call them from the
 * browser: it answers the preflight OPTIONS itself (a preflight carries no API key) and marks the
 * answers to that origin's POSTs, error answers included, as readable with credentials. Mount it
 * before the router; without `webUiOrigin` it does nothing. ApiRoutes declares only GET and POST
 * routes behind their guards, so this cannot be one of its routes.
 */
export function codecCors(webUiOrigin?: string): RequestHandler {
  let allowed: string | undefined;
  if (webUiOrigin) {
    try {
      allowed = new URL(webUiOrigin).origin;
    } catch {
      throw new Error(
        `the Web UI origin "${webUiOrigin}" is not a URL (expected e.g. http://localhost:8233)`,
      );
    }
  }
  return (req, res, next) => {
    if (!codecPaths.includes(req.path.toLowerCase().replace(/\/+$/, ''))) return next();
    res.vary('Origin');
    if (!allowed || req.get('origin') !== allowed) return next();
    res.set({ 'Access-Control-Allow-Origin': allowed, 'Access-Control-Allow-Credentials': 'true' });
    if (req.method !== 'OPTIONS') return next();
    res.set({
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': 'authorization, content-type, x-namespace',
      'Access-Control-Max-Age': '600',
    });
    res.status(204).end();
  };
}

/**
 * Where a person signs the browser in for the Web UI: GET shows a form for their API key, POST
 * checks it and sets the codec session cookie (see api/codec-session.ts). Same-origin posts only.
 */
export function codecSessionRoutes(
  routes: ApiRoutes,
  deps: {
    authenticate: (key: string) => Caller | null;
    sessions: CodecSessions;
    pages: TemplateRenderer;
    msp: MspIdentity;
    publicUrl: string;
    webUiOrigin?: string;
  },
) {
  const tag = 'codec';
  const publicOrigin = new URL(deps.publicUrl).origin;
  const render = (res: Response, status: number, context: Record<string, unknown>) =>
    sendPublicPage(deps, res, status, {
      title: 'Decoded payloads in the Web UI',
      template: 'pages/codec-session.html.hbs',
      context: { ...context, webUiOrigin: deps.webUiOrigin, codecEndpoint: `${deps.publicUrl}/codec` },
    });

  routes.add(
    {
      method: 'get',
      path: '/codec/session',
      summary: 'A form to sign this browser in for the Web UI codec calls',
      roles: 'public',
      responses: { 200: 'HTML form' },
      tag,
    },
    async ({ res }) => {
      await render(res, 200, {});
      return undefined;
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/codec/session',
      summary: 'Exchange an operator or auditor key for the codec session cookie',
      roles: 'public',
      body: z.object({ key: z.string().max(512).default('') }),
      responses: { 200: 'Signed in', 401: 'Not a valid key', 403: 'Cross-site post' },
      tag,
    },
    async ({ body, req, res }) => {
      if (isCrossOrigin(req, publicOrigin)) {
        await render(res, 403, { problem: 'This form can only be sent from its own page.' });
        return undefined;
      }
      const caller = deps.authenticate(body.key);
      if (!caller) {
        countAsFailedAttempt(res);
        await render(res, 401, { problem: 'That is not a valid API key.' });
        return undefined;
      }
      deps.sessions.issue(res, caller);
      await render(res, 200, { caller, hours: deps.sessions.lifetimeSeconds / 3600 });
      return undefined;
    },
  );
}
