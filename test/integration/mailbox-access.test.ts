import { mkdtemp, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../../api/server.js';
import { parseConfig } from '../../config/config.js';
import { createLogger } from '../../config/logger.js';

/** This machine's own address on a non-loopback interface, if it has one. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address?.family === 'IPv4' && !address.internal)?.address;

let dataDir: string;
let api: RunningApi;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'msp-mailbox-'));
  // Every interface, as HOST=0.0.0.0 asks: the mailbox must still answer only this machine.
  const config = parseConfig({
    HOST: '0.0.0.0',
    PORT: '0',
    DATA_DIR: dataDir,
    MAILBOX_DIR: path.join(dataDir, 'mailbox'),
  });
  api = await startApi(config, createLogger('silent'));
});

afterAll(async () => {
  await api?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('/mailbox', () => {
  it.skipIf(!lanAddress)(
    'answers a browser on this machine and no client on another address, even with HOST=0.0.0.0',
    async () => {
      expect((await fetch(`http://127.0.0.1:${api.port}/mailbox`)).status).toBe(200);
      for (const route of ['/mailbox', '/mailbox/1700000000000-0123abcd']) {
        const response = await fetch(`http://${lanAddress}:${api.port}${route}`);
        expect({ route, status: response.status }).toEqual({ route, status: 404 });
        expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'no such route' } });
      }
    },
  );

  it('does not exist for a client a proxy on this machine forwards', async () => {
    const response = await fetch(`http://127.0.0.1:${api.port}/mailbox`, {
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    expect(response.status).toBe(404);
  });
});
