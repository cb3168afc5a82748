// The runbook moving, proving and deleting data by itself, end to end over HTTP: an onboarding
// validates a real restic restore against its RTO (a damaged repository falls back to a person with
// restic's error); an offboarding exports a PostgreSQL database and a restic snapshot to an S3
// bucket (SeaweedFS) with a manifest of its own (an unreachable bucket falls back to a person),
// rotates a PostgreSQL role, and at the deletion date drops the database, forgets the client's
// snapshots and deletes the retained objects with every version, with a certificate of deletion
// whose fields come from the connectors' own checks. What the documents claim is checked apart from
// them: logins with `pg`, snapshots with restic, objects with an S3 client of the test's own.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalVault } from '../../connectors/vault/local.js';
import { loadVaultKeys } from '../../connectors/vault/vault-keys.js';
import type { TaskState, TransitionState } from '../../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { csrfIn, linkIn, postForm } from '../support/links.js';
import { startPostgres, type Postgres } from '../support/postgres.js';
import { freePort } from '../support/ports.js';
import { createResticRepository, type TestRepository } from '../support/restic.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';
import {
  auditorKey,
  operatorKey,
  startStack,
  validatorKey,
  waitForState,
  type Stack,
} from '../support/stack.js';

let stack: Stack;
let server: Postgres;
let s3: S3Server;
let admin: { host: string; port: number; user: string; password: string };
const repositories: TestRepository[] = [];

beforeAll(async () => {
  [stack, server, s3] = await Promise.all([startStack(), startPostgres(), startS3Server()]);
  const url = new URL(server.url);
  admin = {
    host: url.hostname,
    port: Number(url.port),
    user: url.username,
    password: decodeURIComponent(url.password),
  };
}, 180_000);

afterAll(async () => {
  await Promise.all([
    stack?.stop(),
    server?.stop(),
    s3?.stop(),
    ...repositories.map((repo) => repo.remove()),
  ]);
});

async function repository(): Promise<TestRepository> {
  const repo = await createResticRepository();
  repositories.push(repo);
  return repo;
}

async function addConnection(body: Record<string, unknown>) {
  const response = await stack.call('POST', '/v1/connections', body);
  expect(response.status, await response.clone().text()).toBe(201);
}

function resticConnection(id: string, clientId: string, repo: TestRepository) {
  return { id, type: 'restic', clientId, settings: { repository: repo.repository }, secret: repo.password };
}

async function tasksOf(id: string): Promise<TaskState[]> {
  const response = await stack.call('GET', `/v1/transitions/${id}/tasks?limit=100`, undefined, auditorKey);
  expect(response.status).toBe(200);
  return ((await response.json()) as { tasks: TaskState[] }).tasks;
}

async function documentText(id: string, docId: string): Promise<string> {
  const response = await stack.call('GET', `/v1/transitions/${id}/documents/${docId}`, undefined, auditorKey);
  expect(response.status).toBe(200);
  return response.text();
}

async function complete(id: string, taskId: string, evidence: Record<string, unknown>, key = operatorKey) {
  const response = await stack.call(
    'POST',
    `/v1/transitions/${id}/tasks/${taskId}/complete`,
    { evidence },
    key,
  );
  expect(response.status, await response.clone().text()).toBe(200);
}

function s3Connection(id: string, clientId: string, bucket: string, endpoint = s3.endpoint) {
  return {
    id,
    type: 's3',
    clientId,
    settings: { endpoint, region: 'us-east-1', bucket, accessKeyId: s3.accessKeyId, forcePathStyle: true },
    secret: s3.secretAccessKey,
  };
}

/** The SHA-256 of an object as the bucket serves it, read with the test's own client. */
async function objectSha256(location: string): Promise<string> {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(location)!;
  const got = await s3.client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of got.Body as Readable) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function logsIn(user: string, password: string, database = 'runbooks'): Promise<boolean> {
  const db = new pg.Client({ host: admin.host, port: admin.port, user, password, database });
  db.on('error', () => undefined);
  try {
    await db.connect();
    return true;
  } catch {
    return false;
  } finally {
    await db.end().catch(() => undefined);
  }
}

async function asAdmin(sql: string) {
  const db = new pg.Client({ ...admin, database: 'runbooks' });
  await db.connect();
  try {
    await db.query(sql);
  } finally {
    await db.end();
  }
}

describe('data connectors in a running onboarding', () => {
  it('validates a real restore against its RTO; a damaged repository leaves the job to a person with the error', async () => {
    const clientId = uniqueClientId('bright');
    const good = await repository();
    await good.backup({ 'charts/2026.csv': 'patient,visit\n1,2026-01-02\n', 'xray.bin': 'x'.repeat(50_000) });
    const damaged = await repository();
    await damaged.backup({ 'big.bin': Buffer.alloc(200_000, 7) });
    await damaged.corrupt();
    await addConnection(resticConnection(`${clientId}-fs`, clientId, good));
    await addConnection(resticConnection(`${clientId}-nas`, clientId, damaged));
    // A third repository lives in a bucket: its connection names the s3 connection holding the keys.
    const bucket = `restic-${clientId}`.slice(0, 63);
    await s3.createBucket(bucket);
    const offsite = await createResticRepository({
      repository: `s3:${s3.endpoint}/${bucket}/fs02`,
      env: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
    });
    repositories.push(offsite);
    await offsite.backup({ 'ledger.xlsx': 'numbers' });
    await addConnection(s3Connection(`${clientId}-s3keys`, clientId, bucket));
    await addConnection({
      ...resticConnection(`${clientId}-offsite`, clientId, offsite),
      settings: { repository: offsite.repository, s3Connection: `${clientId}-s3keys` },
    });
    expect(
      await (await stack.call('POST', `/v1/connections/${clientId}-offsite/check`)).json(),
    ).toMatchObject({
      ok: true,
      detail: `opened the restic repository ${offsite.repository}; 1 snapshot(s)`,
    });
    await addConnection({
      id: `${clientId}-db`,
      type: 'postgres',
      clientId,
      settings: { host: admin.host, port: admin.port, database: 'runbooks', user: admin.user },
      secret: admin.password,
    });
    const checked = await stack.call('POST', `/v1/connections/${clientId}-fs/check`);
    expect(await checked.json()).toMatchObject({
      ok: true,
      detail: `opened the restic repository ${good.repository}; 1 snapshot(s)`,
    });
    const id = `onboarding-${clientId}`;
    const started = await stack.call('POST', '/v1/transitions', {
      kind: 'onboarding',
      client: { id: clientId, name: 'Bright Smiles Dental', timezone: 'UTC' },
      requestedBy: 'ops@msp.example',
      contacts: {
        approvers: [{ name: 'Riley Chen', email: 'riley@bright.example' }],
        operators: [{ name: 'MSP Ops', email: 'ops@msp.example' }],
      },
      scope: {
        backupJobs: [
          { id: 'fs-daily', device: 'fs01', rto: 'PT1H', connector: 'restic', connection: `${clientId}-fs` },
          {
            id: 'offsite-daily',
            device: 'fs02',
            rto: 'PT1H',
            connector: 'restic',
            connection: `${clientId}-offsite`,
          },
          {
            id: 'practice-db',
            device: 'db01',
            rto: 'PT30M',
            connector: 'postgres',
            connection: `${clientId}-db`,
          },
          {
            id: 'nas-weekly',
            device: 'nas01',
            rto: 'PT4H',
            connector: 'restic',
            connection: `${clientId}-nas`,
          },
        ],
      },
      approvalSteps: [],
    });
    expect(started.status, await started.clone().text()).toBe(201);

    const waiting = await waitForState<TransitionState>(
      stack,
      id,
      (current) =>
        current.tasks.some(
          (task) => task.id === 'restore-validation.nas-weekly' && task.automation?.status === 'failed',
        ),
      90_000,
    );
    const nas = waiting.tasks.find((task) => task.id === 'restore-validation.nas-weekly')!;
    expect(nas.status).toBe('open');
    expect(nas.automation!.error).toMatchObject({ type: 'ConnectorVerificationFailed' });
    expect(nas.automation!.error!.message).toContain('restic check failed');
    const offsiteTask = (await tasksOf(id)).find((task) => task.id === 'restore-validation.offsite-daily')!;
    expect(offsiteTask).toMatchObject({ status: 'completed', completedBy: 'connector restic' });
    expect((await tasksOf(id)).find((task) => task.id === 'restore-validation.practice-db')).toMatchObject({
      status: 'completed',
      completedBy: 'connector postgres',
      evidence: { restore: { integrityCheck: 'passed' } },
    });
    const fs = (await tasksOf(id)).find((task) => task.id === 'restore-validation.fs-daily')!;
    expect(fs).toMatchObject({ status: 'completed', completedBy: 'connector restic' });
    expect(fs.evidence!.restore).toMatchObject({ integrityCheck: 'passed', restoredFiles: 2 });

    // The technician restores the NAS from its second copy by hand and records it: a manual entry.
    await complete(id, 'restore-validation.nas-weekly', {
      text: 'Restored from the offsite copy; checksums compared by hand',
      restore: {
        startedAt: '2026-11-26T08:00:00Z',
        endedAt: '2026-11-26T09:30:00Z',
        integrityCheck: 'passed',
        verifiedBy: 'Sam Tech',
      },
    });
    await waitForState<TransitionState>(stack, id, (current) => current.status === 'completed', 60_000);
    const report = await documentText(id, '04-restore-validation');
    expect(report).toMatch(
      /\| `fs-daily` \| `fs01` \|.*\| PT1H \| yes \| 2 file\(s\), 50027 bytes \| passed \| connector restic/,
    );
    expect(report).toContain('restic check --read-data-subset=100% finds no error | passed');
    expect(report).toContain('the scratch copy is removed | passed');
    expect(report).toMatch(
      /\| `practice-db` \| `db01` \|.*\| PT30M \| yes \|.*\| passed \| connector postgres/,
    );
    expect(report).toMatch(
      /every table of runbooks is in the restored copy with as many rows .* \| passed \|/,
    );
    expect(report).toContain('ConnectorVerificationFailed');
    expect(report).toMatch(/\| `nas-weekly` \| `nas01` \|.*\| PT4H \| yes \| — \| passed \| Sam Tech/);
  }, 180_000);
});

describe('data connectors in a running offboarding', () => {
  it('exports to S3 with a manifest, rotates a database role, then drops the database, prunes the snapshots and deletes the retained objects, with a certificate from the checks', async () => {
    const clientId = uniqueClientId('acme');
    const database = `crm-${clientId}`;
    const mailDatabase = `mail-${clientId}`;
    await server.createDatabase(database);
    await server.createDatabase(mailDatabase);
    const crm = new pg.Client({ ...admin, database });
    await crm.connect();
    await crm.query(`CREATE TABLE customers (id int, name text); INSERT INTO customers VALUES (1, 'Dana')`);
    await crm.end();
    await asAdmin(`CREATE ROLE app_rw LOGIN PASSWORD 'app-old-1'`).catch(() => undefined);
    await asAdmin(`ALTER ROLE app_rw PASSWORD 'app-old-1'`);
    const backups = await repository();
    await backups.backup({ 'docs/a.txt': 'acme monday' }, { tag: clientId });
    await backups.backup({ 'docs/a.txt': 'acme tuesday' }, { tag: clientId });
    await backups.backup({ 'other.txt': 'another client' }, { tag: 'globex' });
    const bucket = `exports-${clientId}`.slice(0, 63);
    await s3.createBucket(bucket);
    const db = `${clientId}-db`;
    await addConnection({
      id: db,
      type: 'postgres',
      clientId,
      settings: { host: admin.host, port: admin.port, database: 'runbooks', user: admin.user },
      secret: admin.password,
    });
    await addConnection(resticConnection(`${clientId}-backups`, clientId, backups));
    await addConnection(s3Connection(`${clientId}-exports`, clientId, bucket));
    const unknownField = s3Connection(`${clientId}-typo`, clientId, bucket);
    const refused = await stack.call('POST', '/v1/connections', {
      ...unknownField,
      settings: { ...unknownField.settings, secretAccessKey: 'never in settings' },
    });
    expect(refused.status).toBe(400);
    expect(
      await (await stack.call('POST', `/v1/connections/${clientId}-exports/check`)).json(),
    ).toMatchObject({
      ok: true,
    });
    await addConnection(
      s3Connection(`${clientId}-offline`, clientId, bucket, `http://127.0.0.1:${await freePort()}`),
    );
    // The role's password as the client's onboarding vaulted it: what the rotation must see refused.
    const vault = createLocalVault(path.join(stack.dataDir, 'vault'), await loadVaultKeys(stack.dataDir));
    await vault.put(`onboarding-${clientId}/credential-vaulting/crm-app`, 'app-old-1');

    const handover = { connection: `${clientId}-exports`, prefix: 'handover' };
    const body = offboardingBody({
      clientId,
      // Deletion comes 20 s after the transition: time to look into the bucket before it is emptied.
      terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT2S', retentionPeriod: 'PT20S' },
      scope: {
        credentials: [
          { id: 'crm-app', system: 'PostgreSQL', account: 'app_rw', connector: 'postgres', connection: db },
        ],
        dataSets: [
          {
            id: 'crm',
            description: 'CRM database',
            connector: 'postgres',
            connection: db,
            source: { database },
            destination: handover,
          },
          {
            id: 'file-backups',
            description: 'File server backups',
            connector: 'restic',
            connection: `${clientId}-backups`,
            source: { tag: clientId },
            destination: handover,
          },
          {
            id: 'mail',
            description: 'Mail archive',
            connector: 'postgres',
            connection: db,
            source: { database: mailDatabase },
            destination: { connection: `${clientId}-offline`, prefix: 'handover' },
          },
          {
            id: 'retained-copies',
            description: "The MSP's retained copies of the export",
            connector: 's3',
            connection: `${clientId}-exports`,
            source: { prefix: 'handover/' },
          },
          { id: 'paper', description: 'Paper records' },
        ],
      },
      approvalSteps: [],
    });
    const id = `offboarding-${clientId}`;
    const started = await stack.call('POST', '/v1/transitions', body);
    expect(started.status, await started.clone().text()).toBe(201);

    // The bucket that does not answer leaves the mail archive to a person, with the error.
    const exporting = await waitForState<TransitionState>(
      stack,
      id,
      (current) =>
        current.tasks.some((task) => task.id === 'data-export.mail' && task.automation?.status === 'failed'),
      90_000,
    );
    const mail = exporting.tasks.find((task) => task.id === 'data-export.mail')!;
    expect(mail.automation!.error).toMatchObject({ type: 'ConnectorUnreachable' });
    expect(mail.automation!.error!.message).toContain('cannot upload handover/');
    await complete(id, 'data-export.mail', { text: 'Mail archive handed over on a disk, by hand' });
    for (const set of ['retained-copies', 'paper'])
      await complete(id, `data-export.${set}`, { text: `${set}: nothing to export` });

    // The manifest, as the client receives it: every SHA-256 is what the bucket serves.
    await waitForState<TransitionState>(stack, id, (current) =>
      current.steps.some((step) => step.key === 'data-export' && step.documentId !== undefined),
    );
    const manifest = await documentText(id, '02-data-export');
    const rows = [
      ...manifest.matchAll(/\| `([a-z-]+)` \| `(s3:\/\/[^`]+)` \| (\d+) \| `([0-9a-f]{64})` \|/g),
    ];
    expect(rows.map((row) => [row[1], row[2]])).toEqual([
      ['crm', `s3://${bucket}/handover/${database}.dump`],
      [
        'file-backups',
        expect.stringMatching(new RegExp(`^s3://${bucket}/handover/snapshot-[0-9a-f]{8}\\.tar$`)),
      ],
    ]);
    for (const row of rows) expect(await objectSha256(row[2]!)).toBe(row[4]);
    expect(manifest).toMatch(
      /pg\\_restore --list reads the dump back \| passed \|.*\| [1-9]\d* archive entries \|/,
    );
    expect(manifest).toContain('ConnectorUnreachable');

    const revealMail = await stack.waitForMail(
      (mail) => mail.subject?.startsWith('New credential ready:') ?? false,
      60_000,
    );
    const link = linkIn(revealMail, 'reveal');
    const revealed = await (await postForm(link, { csrf: csrfIn(await (await fetch(link)).text()) })).text();

    // Paper is shredded by a person, who records it by hand.
    await waitForState<TransitionState>(
      stack,
      id,
      (current) => current.tasks.some((task) => task.id === 'retention-deletion.paper'),
      60_000,
    );
    await complete(id, 'retention-deletion.paper', {
      text: 'Shredded on site',
      method: 'Destroy (cross-cut shredding)',
      tool: 'HSM shredder',
      verification: 'visual inspection of the particles',
    });
    // A second person validates each deletion, the connectors' included, by checking again.
    const sets = ['crm', 'file-backups', 'mail', 'retained-copies', 'paper'];
    await waitForState<TransitionState>(
      stack,
      id,
      (current) =>
        sets.every((set) =>
          current.tasks.some(
            (task) => task.id === `retention-deletion.${set}.validation` && task.status === 'open',
          ),
        ),
      60_000,
    );
    for (const set of sets)
      await complete(
        id,
        `retention-deletion.${set}.validation`,
        {
          text: `${set}: listed again, nothing left`,
          validation: { verificationMethod: 'listed again', verificationResult: 'passed' },
        },
        validatorKey,
      );
    const finished = await waitForState<TransitionState>(
      stack,
      id,
      (current) => current.status === 'completed',
      90_000,
    );

    const rotated = finished.credentials.find((credential) => credential.id === 'crm-app')!;
    const { secret } = await vault.get(rotated.reference!.vaultId, rotated.reference!.version);
    expect(revealed).toContain(secret);
    expect(await logsIn('app_rw', secret)).toBe(true);
    expect(await logsIn('app_rw', 'app-old-1')).toBe(false);
    expect(await logsIn(admin.user, admin.password, database)).toBe(false);
    expect(await backups.snapshots(['--tag', clientId])).toEqual([]);
    expect((await backups.snapshots()).length).toBe(1);

    const tasks = await tasksOf(id);
    expect(tasks.map((task) => [task.id, task.completedBy])).toEqual([
      ['data-export.crm', 'connector postgres'],
      ['data-export.file-backups', 'connector restic'],
      ['data-export.mail', 'ops'],
      ['data-export.retained-copies', 'ops'],
      ['data-export.paper', 'ops'],
      ['credential-rotation.crm-app', 'connector postgres'],
      ['retention-deletion.crm', 'connector postgres'],
      ['retention-deletion.file-backups', 'connector restic'],
      ['retention-deletion.mail', 'connector postgres'],
      ['retention-deletion.retained-copies', 'connector s3'],
      ['retention-deletion.paper', 'ops'],
      ...sets.map((set) => [`retention-deletion.${set}.validation`, 'validator']),
    ]);
    const left = await s3
      .client()
      .send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'handover/' }));
    expect([...(left.Versions ?? []), ...(left.DeleteMarkers ?? [])]).toEqual([]);
    expect(JSON.stringify(finished)).not.toContain(secret);

    const rotation = await documentText(id, '05-credential-rotation');
    expect(rotation).toContain('new password logs in | passed');
    expect(rotation).toContain('previous password refused | passed');
    expect(rotation).not.toContain(secret);

    // The certificate as an auditor reads it: each data set's record, whose it is, and the checks.
    const certificate = await documentText(id, '07-retention-deletion');
    /** The rows of one data set's table in the certificate. */
    const rowsOf = (heading: string) => {
      const start = certificate.indexOf(`#### ${heading}`);
      expect(start, heading).toBeGreaterThan(0);
      const end = certificate.indexOf('\n#', start + 1);
      return certificate.slice(start, end);
    };
    const crmRows = rowsOf('CRM database (`crm`)');
    for (const row of [
      '| Media type | PostgreSQL database |',
      `| Media identifier | \`${admin.host}:${admin.port}/${database}\` |`,
      '| Category | Purge |',
      '| Verification result | passed |',
      "| Record | from the connector's own verification |",
      `| Checked by the connector | pg\\_database lists no database ${database}: **passed**`,
      `| Checked by the connector | a connection to ${database} is refused (database does not exist): **passed**`,
    ])
      expect(crmRows).toContain(row);
    expect(crmRows).toMatch(/\| Tool and version \| PostgreSQL \d+/);
    const resticRows = rowsOf('File server backups (`file-backups`)');
    for (const row of [
      '| Media type | restic backup repository |',
      '| Category | Purge |',
      "| Record | from the connector's own verification |",
      `| Checked by the connector | restic snapshots lists no snapshot of tag ${clientId}: **passed**`,
    ])
      expect(resticRows).toContain(row);
    expect(resticRows).toMatch(/\| Tool and version \| restic \d+\.\d+\.\d+ \|/);
    expect(resticRows).toMatch(/\| Technique \| .*forget --prune/);
    const s3Rows = rowsOf("The MSP's retained copies of the export (`retained-copies`)");
    for (const row of [
      '| Media type | S3 objects and all their versions |',
      `| Media identifier | \`s3://${bucket}/handover/\` |`,
      "| Record | from the connector's own verification |",
      `| Checked by the connector | ListObjectVersions under s3://${bucket}/handover/ is empty (no version or delete marker left): **passed**`,
    ])
      expect(s3Rows).toContain(row);
    expect(s3Rows).toMatch(/\| Tool and version \| @aws-sdk\/client-s3 \d+\.\d+\.\d+ \|/);
    const paperRows = rowsOf('Paper records (`paper`)');
    expect(paperRows).toContain('| Tool | HSM shredder |');
    expect(paperRows).toContain('| Record | manual entry |');
    expect(paperRows).toContain('| Validated by | Morgan Lee, Compliance officer (validator) |');
    expect(certificate).not.toContain(backups.password);
  }, 240_000);
});
