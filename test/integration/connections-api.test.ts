// The connections API over real HTTP, with the real vault, checked against Debian's sshd and slapd:
// settings validated per type, the secret only in the vault, and a check that really reaches the system.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../../api/server.js';
import { parseConfig } from '../../config/config.js';
import { createLocalVault } from '../../connectors/vault/local.js';
import { loadVaultKeys } from '../../connectors/vault/vault-keys.js';
import { offboardingBody } from '../factories.js';
import { startSlapd, type TestSlapd } from '../support/slapd.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

const operator = 'connections-operator-0123456789';
const auditor = 'connections-auditor-0123456789';

let dataDir: string;
let api: RunningApi;
let sshd: TestSshd;
let slapd: TestSlapd;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'connections-api-'));
  [sshd, slapd] = await Promise.all([startSshd(), startSlapd()]);
  api = await startApi(
    parseConfig({
      DATA_DIR: dataDir,
      PORT: '0',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      LOG_LEVEL: 'silent',
      API_KEYS: `ops:operator:${operator},audit:auditor:${auditor}`,
    }),
  );
});

afterAll(async () => {
  await api?.close();
  await Promise.all([sshd?.stop(), slapd?.stop()]);
  await rm(dataDir, { recursive: true, force: true });
});

async function call(method: string, route: string, body?: unknown, key = operator) {
  const response = await fetch(`${api.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, text, json: text ? JSON.parse(text) : undefined };
}

const sshConnection = (id: string, overrides: Record<string, unknown> = {}) => ({
  id,
  type: 'ssh',
  clientId: 'acme-dental',
  settings: {
    host: '127.0.0.1',
    port: sshd.port,
    username: 'root',
    hostKey: sshd.hostKey,
    agents: { rmm: sshd.agentCommands('rmm') },
    ...overrides,
  },
  secret: sshd.clientKey,
});

const vault = async () => createLocalVault(path.join(dataDir, 'vault'), await loadVaultKeys(dataDir));

describe('connections', () => {
  it('stores an ssh connection with its key in the vault only, and its check logs in', async () => {
    const created = await call('POST', '/v1/connections', sshConnection('acme-srv-01'));
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id: 'acme-srv-01',
      type: 'ssh',
      clientId: 'acme-dental',
      settings: { host: '127.0.0.1', port: sshd.port, hostKey: sshd.hostKey },
      secretRef: { vaultId: 'connections/acme-srv-01', version: 1 },
    });
    expect(created.json.secretRef.fingerprint).toEqual(expect.any(String));
    const keyLine = sshd.clientKey.split('\n')[1]!;
    expect(created.text).not.toContain(keyLine);
    const stored = await readFile(path.join(dataDir, 'connections', 'acme-srv-01.json'), 'utf8');
    expect(stored).not.toContain(keyLine);
    expect((await (await vault()).get('connections/acme-srv-01')).secret).toBe(sshd.clientKey);

    const listed = await call('GET', '/v1/connections?clientId=acme-dental', undefined, auditor);
    expect(listed.json.connections.map((c: { id: string }) => c.id)).toContain('acme-srv-01');
    expect(listed.text).not.toContain(keyLine);
    expect((await call('GET', '/v1/connections/acme-srv-01', undefined, auditor)).json.id).toBe(
      'acme-srv-01',
    );

    const check = await call('POST', '/v1/connections/acme-srv-01/check');
    expect(check.json).toMatchObject({ ok: true, checkedAt: expect.any(String) });
    expect(check.json.detail).toContain('logged in');
  });

  it('answers a check that fails with why: a host key that is not the pinned one', async () => {
    await call(
      'POST',
      '/v1/connections',
      sshConnection('acme-wrong-key', { hostKey: `SHA256:${'B'.repeat(43)}` }),
    );
    const check = await call('POST', '/v1/connections/acme-wrong-key/check');
    expect(check.status).toBe(200);
    expect(check.json.ok).toBe(false);
    expect(check.json.detail).toContain('ConnectorHostKeyMismatch');
    expect(check.json.detail).toContain(sshd.hostKey);
  });

  it('stores an ldap connection and checks it with a bind', async () => {
    const body = {
      id: 'acme-ldap',
      type: 'ldap',
      settings: { url: slapd.url, bindDn: slapd.adminDn, baseDn: slapd.baseDn },
      secret: slapd.adminPassword,
    };
    const created = await call('POST', '/v1/connections', body);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ clientId: null, settings: { startTls: false } });
    expect(created.text).not.toContain(slapd.adminPassword);
    expect((await call('POST', '/v1/connections/acme-ldap/check')).json.ok).toBe(true);

    await call('POST', '/v1/connections', { ...body, id: 'acme-ldap-stale', secret: 'not-it' });
    const refused = await call('POST', '/v1/connections/acme-ldap-stale/check');
    expect(refused.json).toMatchObject({ ok: false });
    expect(refused.json.detail).toContain('ConnectorAuthRefused');
  });

  it('refuses bad input with a 400 that stores nothing', async () => {
    const refusals = [
      sshConnection('bad-1', { shell: '/bin/sh' }),
      sshConnection('bad-2', { hostKey: 'ab:cd:ef' }),
      {
        ...sshConnection('bad-3'),
        secret: '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n',
      },
      { ...sshConnection('bad-4'), type: 'telnet' },
      { ...sshConnection('bad-5'), extra: true },
      {
        id: 'bad-6',
        type: 'ldap',
        settings: { url: 'http://x', bindDn: 'cn=a', baseDn: 'dc=b' },
        secret: 's',
      },
    ];
    for (const body of refusals) {
      const answer = await call('POST', '/v1/connections', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.error.code).toBe('invalid_request');
      expect((await call('GET', `/v1/connections/${body.id}`)).status).toBe(404);
    }
    const vaulted = await readdir(path.join(dataDir, 'vault')).catch(() => []);
    expect(vaulted.filter((name) => name.includes('bad-'))).toEqual([]);
  });

  it('refuses a second connection with the same id, and an auditor who adds or removes one', async () => {
    await call('POST', '/v1/connections', sshConnection('acme-dup'));
    expect((await call('POST', '/v1/connections', sshConnection('acme-dup'))).status).toBe(409);
    expect(await (await vault()).list('connections/acme-dup')).toHaveLength(1);
    expect((await call('POST', '/v1/connections', sshConnection('acme-aud'), auditor)).status).toBe(403);
    expect((await call('DELETE', '/v1/connections/acme-dup', undefined, auditor)).status).toBe(403);
    expect((await call('POST', '/v1/connections/acme-dup/check', undefined, auditor)).status).toBe(403);
  });

  it('removes a connection', async () => {
    await call('POST', '/v1/connections', sshConnection('acme-gone'));
    expect((await call('DELETE', '/v1/connections/acme-gone')).status).toBe(204);
    expect((await call('GET', '/v1/connections/acme-gone')).status).toBe(404);
    expect((await call('DELETE', '/v1/connections/acme-gone')).status).toBe(404);
    expect((await call('POST', '/v1/connections/acme-gone/check')).status).toBe(404);
  });

  it('refuses a start whose scope names a connection the runbook could not use, before anything runs', async () => {
    await call('POST', '/v1/connections', sshConnection('acme-srv-09'));
    const start = (devices: Record<string, unknown>[], credentials: Record<string, unknown>[] = []) =>
      call('POST', '/v1/transitions?dryRun=true', {
        ...offboardingBody({ clientId: 'acme-dental' }),
        scope: { devices, credentials, dataSets: [], backupJobs: [] },
      });
    const device = { id: 'srv-09', hostname: 'srv-09.acme.local', type: 'server', agents: ['rmm'] };
    expect((await start([{ ...device, connector: 'ssh', connection: 'acme-srv-09' }])).status).toBe(200);

    const refused = await start(
      [
        { ...device, connector: 'ssh', connection: 'no-such-connection' },
        { ...device, id: 'srv-10', connector: 'ssh' },
      ],
      [{ id: 'admin', system: 'LDAP', account: 'cn=admin', connector: 'ldap', connection: 'acme-srv-09' }],
    );
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toContain('the ssh connector needs the id of a connection');
    const other = await start(
      [{ ...device, connector: 'ssh', connection: 'no-such-connection' }],
      [{ id: 'admin', system: 'LDAP', account: 'cn=admin', connector: 'ldap', connection: 'acme-srv-09' }],
    );
    expect(other.status).toBe(400);
    expect(other.json.error.details.map((issue: { path: unknown[] }) => issue.path.join('.'))).toEqual([
      'scope.devices.0.connection',
      'scope.credentials.0.connection',
    ]);
    expect(other.json.error.message).toContain('there is no connection no-such-connection');
    expect(other.json.error.message).toContain('connection acme-srv-09 is of type ssh, not ldap');
    const elsewhere = await call('POST', '/v1/transitions?dryRun=true', {
      ...offboardingBody({ clientId: 'globex' }),
      scope: { devices: [{ ...device, connector: 'ssh', connection: 'acme-srv-09' }] },
    });
    expect(elsewhere.json.error.message).toContain('connection acme-srv-09 belongs to client acme-dental');
  });

  it('describes the routes in /openapi.json', async () => {
    const spec = (await call('GET', '/openapi.json')).json;
    expect(Object.keys(spec.paths['/v1/connections'])).toEqual(['post', 'get']);
    expect(Object.keys(spec.paths['/v1/connections/{id}'])).toEqual(['get', 'delete']);
    expect(spec.paths['/v1/connections/{id}/check'].post).toBeDefined();
    const body = spec.paths['/v1/connections'].post.requestBody.content['application/json'].schema;
    expect(JSON.stringify(body)).toContain('hostKey');
  });
});
