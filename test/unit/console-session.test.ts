// The console's session cookie, set and read by a real Express app on loopback.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/config.js';
import { createConsoleSessions, idleTimeoutMinutes } from '../../api/console/session.js';

const before = { id: 'l0', key: Buffer.alloc(32, 7) };
let linkSecrets = [before];
const keysOf = (entries: string) => parseConfig({ API_KEYS: entries }).apiKeys;
const minute = 60_000;
const start = Date.parse('2026-11-26T09:00:00Z');

let url: string;
let close: () => void;
let keys = keysOf('ops:operator:operator-key-0123456789,audit:auditor:auditor-key-0123456789');

beforeAll(async () => {
  const app = express();
  // The lists are read through a getter so a test can change API_KEYS or LINK_SECRET as a restart would.
  const sessions = () => createConsoleSessions(linkSecrets, 'https://msp.example', keys);
  app.get('/in', (req, res) => {
    sessions().signIn(res, { name: String(req.query.name), role: 'operator' }, Number(req.query.now));
    res.end();
  });
  app.get('/check', (req, res) => {
    const check = sessions().check(req, Number(req.query.now));
    if (check.session) sessions().renew(res, check.session, Number(req.query.now));
    res.json(check);
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});

afterAll(() => close());

const cookieOf = (response: Response) => response.headers.get('set-cookie')!.split(';')[0]!;
const check = (cookie: string, now: number) =>
  fetch(`${url}/check?now=${now}`, { headers: { cookie } }).then(async (response) => ({
    body: (await response.json()) as { session: { caller: { name: string } } | null; ended?: boolean },
    cookie: response.headers.get('set-cookie') ? cookieOf(response) : cookie,
  }));

describe('console sessions', () => {
  it('set an HttpOnly, SameSite=Strict, Secure cookie for /console that lasts the idle timeout', async () => {
    const response = await fetch(`${url}/in?name=ops&now=${start}`);
    const header = response.headers.get('set-cookie')!;
    expect(header).toMatch(
      /^console_session=[^;]+; Max-Age=1800; Path=\/console; Expires=.+; HttpOnly; Secure; SameSite=Strict$/,
    );
  });

  it('end after the idle timeout, and each use starts it again', async () => {
    const cookie = cookieOf(await fetch(`${url}/in?name=ops&now=${start}`));
    const used = await check(cookie, start + (idleTimeoutMinutes - 1) * minute);
    expect(used.body.session?.caller.name).toBe('ops');
    expect(
      (await check(used.cookie, start + (2 * idleTimeoutMinutes - 2) * minute)).body.session,
    ).not.toBeNull();
    expect((await check(cookie, start + (idleTimeoutMinutes + 1) * minute)).body).toEqual({
      session: null,
      ended: true,
    });
  });

  it('end at the latest 12 hours after sign-in, however often used', async () => {
    let cookie = cookieOf(await fetch(`${url}/in?name=ops&now=${start}`));
    for (let at = start + 20 * minute; at < start + 12 * 60 * minute; at += 20 * minute)
      cookie = (await check(cookie, at)).cookie;
    expect((await check(cookie, start + 12 * 60 * minute + minute)).body.session).toBeNull();
  });

  it('refuse an altered cookie, and end when the key is replaced or removed', async () => {
    const cookie = cookieOf(await fetch(`${url}/in?name=ops&now=${start}`));
    const [name, value] = cookie.split('=') as [string, string];
    const [payload, mac] = value.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, r: 'auditor', n: 'audit' })).toString('base64url');
    expect((await check(`${name}=${forged}.${mac}`, start)).body).toEqual({ session: null, ended: true });

    keys = keysOf('ops:operator:a-new-operator-key-987654,audit:auditor:auditor-key-0123456789');
    expect((await check(cookie, start + minute)).body.session).toBeNull();
    keys = keysOf('audit:auditor:auditor-key-0123456789');
    expect((await check(cookie, start + minute)).body.session).toBeNull();
    keys = keysOf('ops:operator:operator-key-0123456789');
    expect((await check(cookie, start + minute)).body.session?.caller.name).toBe('ops');
  });

  it('stay open when a newer link secret is listed after theirs, and end once theirs is removed', async () => {
    const cookie = cookieOf(await fetch(`${url}/in?name=ops&now=${start}`));
    const newer = { id: 'l1', key: Buffer.alloc(32, 8) };
    try {
      linkSecrets = [before, newer];
      const renewed = await check(cookie, start + minute);
      expect(renewed.body.session?.caller.name).toBe('ops');
      linkSecrets = [newer];
      expect((await check(cookie, start + 2 * minute)).body).toEqual({ session: null, ended: true });
      // Renewed under the rotated list, the cookie was sealed with the newest secret: it outlives the old one.
      expect((await check(renewed.cookie, start + 2 * minute)).body.session?.caller.name).toBe('ops');
    } finally {
      linkSecrets = [before];
    }
  });

  it('say nothing ended when no cookie was sent', async () => {
    expect((await check('other=1', start)).body).toEqual({ session: null, ended: false });
  });
});
