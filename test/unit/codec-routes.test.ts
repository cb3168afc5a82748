import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../api/auth.js';
import { errorHandler, HttpError } from '../../api/errors.js';
import { parseConfig } from '../../config/config.js';
import { codecCors, codecRoutes } from '../../api/routes/codec.js';
import { ApiRoutes } from '../../api/routes.js';
import { createEncryptionCodec } from '../../security/payload-codec.js';

const operatorKey = 'codec-test-operator-0123456789';
const auditorKey = 'codec-test-auditor-0123456789';
const webUi = 'http://localhost:8233';
const codec = createEncryptionCodec([{ id: 'k1', key: randomBytes(32) }]);

let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(express.json());
  app.use(codecCors(webUi));
  const router = express.Router();
  const routes = new ApiRoutes(
    router,
    createAuthenticator(
      parseConfig({ API_KEYS: `ops:operator:${operatorKey},audit:auditor:${auditorKey}` }).apiKeys,
    ),
  );
  codecRoutes(routes, { codec });
  app.use(router);
  app.use(() => {
    throw new HttpError(404, 'not_found', 'no such route');
  });
  app.use(errorHandler(pino({ level: 'silent' })));
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

type JsonPayload = { metadata: Record<string, string>; data?: string };
type Body = { payloads: JsonPayload[] };
type ErrorBody = { error: { code: string; message: string } };

const post = (path: string, body: unknown, key?: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-namespace': 'default',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });

/** A payload as the Web UI sends it: proto JSON, bytes in base64. */
const asJson = (value: unknown): JsonPayload => {
  const payload = defaultPayloadConverter.toPayload(value);
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, bytes]) => [
        name,
        Buffer.from(bytes).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
};
const fromJson = (payload: JsonPayload) =>
  defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(
      Object.entries(payload.metadata).map(([name, text]) => [name, Buffer.from(text, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  });

describe('codec endpoint', () => {
  const value = { client: 'acme-dental', credential: 'vault:acme/admin' };

  it('answers 401 without a key and with an unknown key', async () => {
    const body = { payloads: [asJson(value)] };
    const none = await post('/codec/decode', body);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as ErrorBody).error.code).toBe('unauthorized');
    expect((await post('/codec/encode', body, 'not-a-known-key-0123456789')).status).toBe(401);
  });

  it('encodes for an operator and decodes for an auditor, in the Codec Server shape', async () => {
    const encoded = await post('/codec/encode', { payloads: [asJson(value), asJson('second')] }, operatorKey);
    expect(encoded.status).toBe(200);
    const encodedBody = (await encoded.json()) as Body;
    expect(encodedBody.payloads).toHaveLength(2);
    const [first] = encodedBody.payloads;
    expect(Buffer.from(first!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(first!.metadata['encryption-key-id']!, 'base64').toString()).toBe('k1');
    expect(Buffer.from(first!.data!, 'base64').toString('latin1')).not.toContain('vault:acme');

    const decoded = await post('/codec/decode', encodedBody, auditorKey);
    expect(decoded.status).toBe(200);
    const decodedBody = (await decoded.json()) as Body;
    expect(decodedBody.payloads.map(fromJson)).toEqual([value, 'second']);
  });

  it('passes plain payloads through decode and handles an empty list', async () => {
    const plain = asJson(value);
    const response = await post('/codec/decode', { payloads: [plain] }, auditorKey);
    expect(((await response.json()) as Body).payloads).toEqual([plain]);
    const empty = await post('/codec/decode', { payloads: [] }, auditorKey);
    expect(await empty.json()).toEqual({ payloads: [] });
  });

  it('answers 400 for a payload under an unknown key and for a malformed body', async () => {
    const [foreign] = await createEncryptionCodec([{ id: 'gone', key: randomBytes(32) }]).encode([
      defaultPayloadConverter.toPayload(value),
    ]);
    const payload = {
      metadata: Object.fromEntries(
        Object.entries(foreign!.metadata!).map(([name, bytes]) => [
          name,
          Buffer.from(bytes).toString('base64'),
        ]),
      ),
      data: Buffer.from(foreign!.data!).toString('base64'),
    };
    const unknown = await post('/codec/decode', { payloads: [payload] }, auditorKey);
    expect(unknown.status).toBe(400);
    const error = ((await unknown.json()) as ErrorBody).error;
    expect(error.code).toBe('undecodable_payload');
    expect(error.message).toMatch(/unknown codec key id "gone"/);

    const malformed = await post('/codec/decode', { payloads: [{ data: 'not base64!' }] }, auditorKey);
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as ErrorBody).error.code).toBe('invalid_request');
  });
});

describe('codec CORS', () => {
  const preflight = (origin: string) =>
    fetch(`${base}/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-namespace',
      },
    });

  it('answers the Web UI preflight without a key', async () => {
    const response = await preflight(webUi);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(webUi);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(response.headers.get('access-control-allow-headers')).toBe(
      'authorization, content-type, x-namespace',
    );
    expect(response.headers.get('vary')).toMatch(/origin/i);
  });

  it('gives another origin no CORS headers', async () => {
    const response = await preflight('http://evil.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    const post_ = await post('/codec/decode', { payloads: [] }, auditorKey, {
      origin: 'http://evil.example',
    });
    expect(post_.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("marks the Web UI's POSTs readable, errors included", async () => {
    const ok = await post('/codec/decode', { payloads: [] }, auditorKey, { origin: webUi });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(webUi);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const denied = await post('/codec/decode', { payloads: [] }, undefined, { origin: webUi });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe(webUi);
  });

  it('leaves other routes alone', async () => {
    const response = await fetch(`${base}/v1/transitions`, { method: 'OPTIONS', headers: { origin: webUi } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
