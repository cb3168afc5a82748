// The stores several hosts share, against a real PostgreSQL and a real S3 server (SeaweedFS): what two
// processes on two hosts would see through two separate instances of each store.
import { createHash, randomBytes } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerUnavailableError } from '../../activities/ledger.js';
import { encodeHistory } from '../../audit/history-codec.js';
import { createEncryptionCodec } from '../../security/payload-codec.js';
import { failedLinkAttemptsPerMinute } from '../../api/security.js';
import { parseConfig, projectRoot } from '../../config/config.js';
import type { DocumentMeta } from '../../connectors/documents/port.js';
import { openStores, type Stores } from '../../connectors/stores.js';
import { VaultError } from '../../connectors/vault/port.js';
import { parseVaultKeys } from '../../connectors/vault/vault-keys.js';
import { startPostgres, type Postgres } from '../support/postgres.js';
import { npmRun, rekeyKilledAfter } from '../support/rekey.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';

const execFileAsync = promisify(execFile);

let postgres: Postgres;
let s3: S3Server;
let documentsUrl: string;
const vaultKey = randomBytes(32);
/** VAULT_KEY as one plain value: the key of the implicit id. */
const vaultKeys = [{ id: 'v0', key: vaultKey }];
const opened: Stores[] = [];

/** The stores of one host: its own DATA_DIR, the shared database and bucket. */
async function host(env: Record<string, string> = {}): Promise<Stores> {
  const config = parseConfig({
    DATA_DIR: path.join(projectRoot, '.data', 'never-written'),
    DOCUMENTS_URL: documentsUrl,
    STATE_DB_URL: postgres.url,
    VAULT_KEY: vaultKey.toString('base64'),
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    ...env,
  });
  const stores = await openStores(config);
  opened.push(stores);
  return stores;
}

beforeAll(async () => {
  [postgres, s3] = await Promise.all([startPostgres(), startS3Server()]);
  documentsUrl = await s3.createBucket('runbooks-documents', 'msp/');
}, 120_000);

afterAll(async () => {
  for (const stores of opened) await stores.close();
  await Promise.all([postgres?.stop(), s3?.stop()]);
});

const didNothing = () => false;

describe('the side-effect ledger in PostgreSQL', () => {
  it('does an effect once across two hosts, and leaves it in doubt when the first attempt never recorded it', async () => {
    const [a, b] = [await host(), await host()];
    let sent = 0;
    const send = async () => void sent++;
    expect(await a.ledger.atMostOnce('mail:run-1:notice', send, didNothing)).toBe('done');
    expect(await b.ledger.atMostOnce('mail:run-1:notice', send, didNothing)).toBe('done-earlier');
    expect(sent).toBe(1);

    // The attempt on host a dies mid-send (its effect never returns); the retry on b must not send.
    const crashed = a.ledger.atMostOnce(
      'mail:run-1:link',
      () => new Promise<void>(() => undefined),
      didNothing,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await b.ledger.atMostOnce('mail:run-1:link', send, didNothing)).toBe('in-doubt');
    expect(await b.ledger.atMostOnce('mail:run-1:link', send, didNothing)).toBe('in-doubt');
    expect(sent).toBe(1);
    void crashed;
  });

  it('releases the claim of an effect that certainly did not happen, so the retry on another host does it', async () => {
    const [a, b] = [await host(), await host()];
    const refused = new Error('550 mailbox unavailable');
    await expect(
      a.ledger.atMostOnce(
        'mail:run-2:notice',
        () => Promise.reject(refused),
        (error) => error === refused,
      ),
    ).rejects.toBe(refused);
    let sent = 0;
    expect(await b.ledger.atMostOnce('mail:run-2:notice', async () => void sent++, didNothing)).toBe('done');
    expect(sent).toBe(1);
  });

  it('lets exactly one of many concurrent attempts do the effect', async () => {
    const hosts = [await host(), await host()];
    let sent = 0;
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        hosts[index % 2]!.ledger.atMostOnce('mail:run-3:race', async () => void sent++, didNothing),
      ),
    );
    expect(sent).toBe(1);
    expect(outcomes.filter((outcome) => outcome === 'done')).toHaveLength(1);
  });

  it('stores only the SHA-256 of each key', async () => {
    await (await host()).ledger.atMostOnce('mail:run-4:dana@acme.example', async () => undefined, didNothing);
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const { rows } = await client.query<{ key_sha256: string }>('SELECT key_sha256 FROM side_effect_ledger');
    await client.end();
    expect(rows.map((row) => row.key_sha256)).toContain(
      createHash('sha256').update('mail:run-4:dana@acme.example').digest('hex'),
    );
    expect(JSON.stringify(rows)).not.toContain('dana@acme.example');
  });

  it('fails before the effect when the database cannot be reached', async () => {
    const unreachable = await postgres.createDatabase('dropped_later');
    const stores = await host({ STATE_DB_URL: unreachable });
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'dropped_later' AND pid <> pg_backend_pid()",
    );
    await admin.query('DROP DATABASE dropped_later WITH (FORCE)');
    await admin.end();
    let sent = 0;
    const error = await stores.ledger
      .atMostOnce('mail:run-5:notice', async () => void sent++, didNothing)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LedgerUnavailableError);
    expect((error as Error).message).toMatch(/^the side-effect ledger could not claim a side effect/);
    expect(sent).toBe(0);
  });
});

describe('the vault in PostgreSQL', () => {
  it('gives every host the same versions, sealed before they leave the process', async () => {
    const [a, b] = [await host(), await host()];
    const id = 'offboarding-acme/credential-rotation/domain-admin';
    const first = await a.vault(vaultKeys).put(id, 'Dom@in-Admin-1');
    const second = await b.vault(vaultKeys).put(id, 'Dom@in-Admin-2');
    expect([first.version, second.version]).toEqual([1, 2]);
    expect((await b.vault(vaultKeys).get(id, 1)).secret).toBe('Dom@in-Admin-1');
    expect((await a.vault(vaultKeys).get(id)).secret).toBe('Dom@in-Admin-2');
    expect((await a.vault(vaultKeys).list(id)).map((ref) => ref.version)).toEqual([1, 2]);

    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const { rows } = await client.query('SELECT * FROM vault_versions WHERE vault_id = $1', [id]);
    await client.end();
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain('Dom@in-Admin');
  });

  it('gives concurrent puts to one id distinct versions', async () => {
    const hosts = [await host(), await host()];
    const id = 'onboarding-bright/credential-vaulting/m365';
    const refs = await Promise.all(
      Array.from({ length: 6 }, (_, index) => hosts[index % 2]!.vault(vaultKeys).put(id, `secret-${index}`)),
    );
    expect(refs.map((ref) => ref.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses to open a version under another key, or a row moved to another id', async () => {
    const stores = await host();
    const id = 'offboarding-globex/credential-rotation/firewall';
    await stores.vault(vaultKeys).put(id, 'Firew@ll-Secret');
    const wrongKey = await stores
      .vault([{ id: 'v0', key: randomBytes(32) }])
      .get(id)
      .catch((error: unknown) => error);
    expect(wrongKey).toBeInstanceOf(VaultError);
    expect((wrongKey as VaultError).code).toBe('corrupt');

    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query(
      "UPDATE vault_versions SET vault_id = 'offboarding-globex/other' WHERE vault_id = $1",
      [id],
    );
    await client.end();
    const moved = await stores
      .vault(vaultKeys)
      .get('offboarding-globex/other')
      .catch((error: unknown) => error);
    expect((moved as VaultError).code).toBe('corrupt');
    expect((moved as VaultError).message).not.toContain('Firew@ll');
  });
});

describe('rotating the vault key in PostgreSQL', () => {
  it('opens old rows with the old key, seals new ones with the newest, survives a killed rekey, and then needs only the newest', async () => {
    const url = await postgres.createDatabase('vault_rotation');
    const newer = `v1:${randomBytes(32).toString('base64')}`;
    const lists = {
      old: vaultKey.toString('base64'),
      rotated: `${vaultKey.toString('base64')},${newer}`,
      newer,
    };
    // What the operator's commands see: this database, the key list, no documents to check.
    const commandEnv = (VAULT_KEY: string) => ({
      DATA_DIR: path.join(projectRoot, '.data', 'never-written'),
      STATE_DB_URL: url,
      VAULT_KEY,
      CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const rows = async () =>
      (
        await admin.query<{ vault_id: string; version: number; key_id: string | null; fingerprint: string }>(
          'SELECT vault_id, version, key_id, fingerprint FROM vault_versions ORDER BY vault_id, version',
        )
      ).rows;
    const secretsUnder = async (list: string) => {
      const vault = (await host({ STATE_DB_URL: url, VAULT_KEY: list })).vault(parseVaultKeys(list));
      return Promise.all(
        (await rows()).map(async (row) => (await vault.get(row.vault_id, row.version)).secret),
      );
    };
    try {
      const before = (await host({ STATE_DB_URL: url })).vault(vaultKeys);
      await before.put('clients/acme/admin', 'acme-1');
      await before.put('clients/acme/admin', 'acme-2');
      await before.put('clients/globex/admin', 'globex-1');
      // A row as written before versions named their key.
      await admin.query(
        "UPDATE vault_versions SET key_id = NULL WHERE vault_id = 'clients/acme/admin' AND version = 1",
      );

      const rotated = (await host({ STATE_DB_URL: url, VAULT_KEY: lists.rotated })).vault(
        parseVaultKeys(lists.rotated),
      );
      expect((await rotated.get('clients/acme/admin', 1)).secret).toBe('acme-1');
      await rotated.put('clients/globex/admin', 'globex-2');
      expect((await rows()).map((row) => row.key_id)).toEqual([null, 'v0', 'v0', 'v1']);
      const fingerprints = (await rows()).map((row) => row.fingerprint);

      const killed = await rekeyKilledAfter(2, commandEnv(lists.rotated));
      expect(killed, killed.stderr).toMatchObject({ signal: 'SIGKILL' });
      expect((await rows()).filter((row) => row.key_id === 'v1')).toHaveLength(3);
      expect(await secretsUnder(lists.rotated)).toEqual(['acme-1', 'acme-2', 'globex-1', 'globex-2']);
      const tooEarly = await npmRun('keys:check', commandEnv(lists.newer));
      expect(tooEarly).toMatchObject({
        code: 1,
        stdout: expect.stringContaining('vault key v0: 1 version(s), NOT CONFIGURED'),
      });

      const finished = await npmRun('vault:rekey', commandEnv(lists.rotated));
      expect(finished, finished.stderr).toMatchObject({ code: 0 });
      expect(finished.stdout).toContain('re-sealed 1 version(s) under vault key v1');
      expect(finished.stdout).toContain(
        'vault key v0: 0 version(s), configured, needed by no version: may be removed',
      );
      expect((await rows()).map((row) => row.key_id)).toEqual(['v1', 'v1', 'v1', 'v1']);
      expect((await rows()).map((row) => row.fingerprint)).toEqual(fingerprints);

      const check = await npmRun('keys:check', commandEnv(lists.newer));
      expect(check, check.stderr).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('vault key v1: 4 version(s), configured, the newest'),
      });
      expect(await secretsUnder(lists.newer)).toEqual(['acme-1', 'acme-2', 'globex-1', 'globex-2']);
      expect(JSON.stringify([tooEarly, finished, check])).not.toContain(newer.slice(3));
    } finally {
      await admin.end();
    }
  });
});

describe('migrations', () => {
  it('are applied once when several processes start at the same moment', async () => {
    const url = await postgres.createDatabase('fresh_start');
    // Separate Node processes, as separate hosts would be: each opens the stores, which migrates.
    const starts = Array.from(
      { length: 3 },
      () =>
        new Promise<number | null>((resolve) => {
          const child = spawn(
            process.execPath,
            [
              '--import',
              'tsx',
              '-e',
              "const { openStateDb } = await import('./connectors/state-db/state-db.ts'); const db = await openStateDb(process.env.STATE_DB_URL); await db.end();",
            ],
            { cwd: projectRoot, env: { ...process.env, STATE_DB_URL: url }, stdio: 'inherit' },
          );
          child.once('exit', resolve);
        }),
    );
    expect(await Promise.all(starts)).toEqual([0, 0, 0]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ name: string }>(
      'SELECT name FROM schema_migrations ORDER BY version',
    );
    await client.end();
    expect(rows.map((row) => row.name)).toEqual([
      '0001_ledger_vault_rate_limit.sql',
      '0002_connections.sql',
      '0003_vault_key_ids.sql',
    ]);
  });
});

describe('connections in PostgreSQL', () => {
  it('are the same on every host, created once, and removed for all', async () => {
    const [a, b] = [await host(), await host()];
    const secretRef = await a.vault(vaultKeys).put('connections/acme-srv-01', 'the key');
    const connection = {
      id: 'acme-srv-01',
      type: 'ssh' as const,
      clientId: 'acme',
      settings: {
        host: 'srv-01.acme.local',
        port: 22,
        username: 'root',
        hostKey: `SHA256:${'A'.repeat(43)}`,
        agents: {},
      },
      secretRef,
      createdAt: new Date().toISOString(),
      createdBy: 'ops',
    };
    const created = await Promise.all([a.connections.create(connection), b.connections.create(connection)]);
    expect(created.sort()).toEqual([false, true]);
    expect(await b.connections.get('acme-srv-01')).toEqual(connection);
    expect((await b.connections.list()).map((stored) => stored.id)).toContain('acme-srv-01');
    expect(await b.connections.delete('acme-srv-01')).toBe(true);
    expect(await a.connections.get('acme-srv-01')).toBeNull();
    expect(await a.connections.delete('acme-srv-01')).toBe(false);
  });
});

describe('failed link attempts in PostgreSQL', () => {
  it('count toward one limit per address whichever API sees them', async () => {
    const [a, b] = [(await host()).failedLinkAttempts(), (await host()).failedLinkAttempts()];
    const address = '203.0.113.7';
    for (let attempt = 0; attempt < failedLinkAttemptsPerMinute - 1; attempt++)
      await (attempt % 2 === 0 ? a : b).record(address);
    expect(await a.blockedFor(address)).toBe(0);
    await b.record(address);
    expect(await a.blockedFor(address)).toBeGreaterThan(0);
    expect(await b.blockedFor(address)).toBeGreaterThan(0);
    expect(await a.blockedFor('198.51.100.9')).toBe(0);
  });
});

describe('documents in S3', () => {
  const run = { transitionId: 'offboarding-acme-dental', runId: '0b1e7c4e-1111-4c1a-9a55-2f0f0c1a0001' };
  const document = (id: string, md: string, previousSha256: string | null): DocumentMeta => ({
    id,
    transitionId: run.transitionId,
    step: id.slice(3),
    title: id,
    sha256: createHash('sha256').update(md).digest('hex'),
    previousSha256,
    createdAt: '2026-11-26T09:00:00.000Z',
  });

  it('writes each document once, lists the chain in order on every host and serves its files', async () => {
    const [a, b] = [await host(), await host()];
    const first = document('01-termination-notice', '# Notice\n', null);
    const second = document('02-data-export', '# Export\n', first.sha256);
    await a.documents.writeOnce(run, second, { md: '# Export\n', html: '<h1>Export</h1>' });
    await b.documents.writeOnce(run, first, { md: '# Notice\n', html: '<h1>Notice</h1>' });
    // A retry on another host with other bytes changes nothing: it gets what is stored.
    const again = await b.documents.writeOnce(run, document('02-data-export', '# Other\n', first.sha256), {
      md: '# Other\n',
      html: '<h1>Other</h1>',
    });
    expect(again).toEqual(second);
    expect((await b.documents.list(run)).map((meta) => meta.id)).toEqual([
      '01-termination-notice',
      '02-data-export',
    ]);
    expect((await a.documents.read(run, '02-data-export', 'md'))?.toString()).toBe('# Export\n');
    expect((await b.documents.read(run, '02-data-export', 'html'))?.toString()).toBe('<h1>Export</h1>');
    expect(await a.documents.read(run, '03-cutover', 'md')).toBeNull();
    expect(await a.documents.runIds(run.transitionId)).toEqual([run.runId]);

    // The objects sit under the URL's prefix, where an auditor of the bucket finds them.
    const client = s3.client();
    const stored = await client.send(
      new GetObjectCommand({
        Bucket: 'runbooks-documents',
        Key: `msp/${run.transitionId}/${run.runId}/02-data-export.md`,
      }),
    );
    expect(await stored.Body!.transformToString()).toBe('# Export\n');
    client.destroy();
  });

  it('keeps a body an interrupted attempt left, and hashes what is stored', async () => {
    const stores = await host();
    const client = s3.client();
    const key = `msp/${run.transitionId}/${run.runId}/03-cutover.md`;
    await client.send(
      new PutObjectCommand({ Bucket: 'runbooks-documents', Key: key, Body: '# Cutover (first attempt)\n' }),
    );
    client.destroy();
    expect(await stores.documents.read(run, '03-cutover', 'md')).toBeNull();
    const meta = await stores.documents.writeOnce(run, document('03-cutover', '# Cutover\n', null), {
      md: '# Cutover\n',
      html: '<h1>Cutover</h1>',
    });
    const markdown = (await stores.documents.read(run, '03-cutover', 'md'))!;
    expect(markdown.toString()).toBe('# Cutover (first attempt)\n');
    expect(meta.sha256).toBe(createHash('sha256').update(markdown).digest('hex'));
  });

  it('replaces the history archive with each copy and reads the latest', async () => {
    const [a, b] = [await host(), await host()];
    await a.documents.writeArchive(run, 'history.binpb', Buffer.from('first copy'));
    await b.documents.writeArchive(run, 'history.binpb', Buffer.from('second copy'));
    expect((await a.documents.readArchive(run, 'history.binpb'))?.toString()).toBe('second copy');
    expect(await a.documents.readArchive({ ...run, runId: 'no-such-run' }, 'history.binpb')).toBeNull();
  });

  it('lets `npm run keys:check` find the codec keys of the archives in the bucket', async () => {
    // A bucket of its own: the archives the other tests wrote are not histories.
    const keysBucket = await s3.createBucket('runbooks-keys');
    const stores = await host({ DOCUMENTS_URL: keysBucket });
    const codecKey = { id: 'k2027', key: randomBytes(32) };
    const [input] = await createEncryptionCodec([codecKey]).encode([{ data: Buffer.from('"start"') }]);
    const history = {
      events: [{ eventId: 1, workflowExecutionStartedEventAttributes: { input: { payloads: [input] } } }],
    };
    const archived = { transitionId: 'offboarding-initech', runId: '0b1e7c4e-2222-4c1a-9a55-2f0f0c1a0002' };
    await stores.documents.writeArchive(
      archived,
      'history.binpb',
      Buffer.from(encodeHistory(history as never)),
    );
    const check = (codecKeys: string) =>
      execFileAsync('npm', ['run', '--silent', 'keys:check'], {
        cwd: projectRoot,
        env: {
          ...process.env,
          DATA_DIR: path.join(projectRoot, '.data', 'never-written'),
          DOCUMENTS_URL: keysBucket,
          AWS_ACCESS_KEY_ID: s3.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
          CODEC_KEYS: codecKeys,
        },
        timeout: 60_000,
      });
    const configured = await check(`k2027:${codecKey.key.toString('base64')}`);
    expect(configured.stdout).toContain('k2027: 1 archive(s), configured');
    const dropped = await check(`k2028:${randomBytes(32).toString('base64')}`).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect(dropped).toMatchObject({
      code: 1,
      stdout: expect.stringContaining('k2027: 1 archive(s), NOT CONFIGURED'),
    });
  });

  it('refuses at start a bucket without versioning, and a bucket it cannot read, naming DOCUMENTS_URL', async () => {
    const unversioned = await s3.createBucket('runbooks-unversioned', '', { versioned: false });
    await expect(host({ DOCUMENTS_URL: unversioned })).rejects.toThrow(
      /^DOCUMENTS_URL: the bucket runbooks-unversioned must have versioning enabled/,
    );
    await expect(
      host({ DOCUMENTS_URL: documentsUrl, AWS_SECRET_ACCESS_KEY: 'wrong-secret' }),
    ).rejects.toThrow(/^DOCUMENTS_URL: the bucket runbooks-documents cannot be read/);
  });
});
