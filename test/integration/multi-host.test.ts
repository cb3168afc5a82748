// The production topology on this machine: two `npm run worker` and two `npm run api` processes, each
// with its own DATA_DIR as on its own host, sharing only a Temporal cluster (its four services as
// four processes on PostgreSQL, test/support/temporal-cluster.ts), PostgreSQL (STATE_DB_URL) and an
// S3 server (DOCUMENTS_URL). A full offboarding with approvals runs across them while the worker that
// holds the transition is killed with `kill -9` in the middle of a step, and later Temporal's history,
// matching and frontend services one after the other.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { strFromU8, unzipSync } from 'fflate';
import { simpleParser, type ParsedMail } from 'mailparser';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedLinkAttemptsPerMinute } from '../../api/security.js';
import { projectRoot } from '../../config/config.js';
import type { TransitionState } from '../../domain/definitions.js';
import { startMailbox, type Mailbox } from '../../embedded/mailbox.js';
import { offboardingBody, oneOfEach } from '../factories.js';
import { csrfIn, linkIn, postForm } from '../support/links.js';
import { freePort } from '../support/ports.js';
import { startPostgres, type Postgres } from '../support/postgres.js';
import {
  isRunning,
  killStillRunning,
  processTree,
  stillRunningAfter,
  type ObservedProcess,
} from '../support/processes.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';
import { startTemporalCluster, type TemporalCluster } from '../support/temporal-cluster.js';

const operatorKey = 'multi-host-operator-key-0123456789';
const auditorKey = 'multi-host-auditor-key-0123456789';
/** A second operator: who validates the deletion the first one performed. */
const validatorKey = 'multi-host-validator-key-0123456789';
const bucket = 'runbooks-multi-host';

/** One process of the topology, as a host runs it: `npm run worker` or `npm run api`. */
interface Host {
  name: string;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  /** The API's own address (its PUBLIC_URL is the shared one, as behind a load balancer). */
  url?: string;
}

let postgres: Postgres;
let s3: S3Server;
let temporal: TemporalCluster;
let mailbox: Mailbox;
let temporalClient: Client;
let scratch: string;
const mail: ParsedMail[] = [];
const hosts: Host[] = [];
const seen: ObservedProcess[] = [];
let publicUrl = '';

function startHost(
  name: string,
  script: 'worker' | 'api',
  env: Record<string, string>,
  dataDir: string,
): Host {
  let output = '';
  const child = spawn('npm', ['run', '--silent', script], {
    cwd: projectRoot,
    env: { ...process.env, ...env, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a crash of the host can take the whole group at once.
    detached: true,
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const host = { name, dataDir, child, output: () => output };
  hosts.push(host);
  return host;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe().catch(() => undefined);
    if (found !== undefined) return found;
    if (Date.now() > deadline)
      throw new Error(
        `${what} did not happen within ${timeoutMs} ms. The hosts printed:\n${hosts
          .map((host) => `--- ${host.name}\n${host.output().slice(-1500)}`)
          .join('\n')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const apis = () => hosts.filter((host) => host.url);

function call(api: Host, method: string, route: string, body?: unknown, key = operatorKey) {
  return fetch(`${api.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function stateVia(api: Host, id: string): Promise<TransitionState> {
  const response = await call(api, 'GET', `/v1/transitions/${id}`);
  if (!response.ok) throw new Error(`state: ${response.status}`);
  return (await response.json()) as TransitionState;
}

function waitForState(
  api: Host,
  id: string,
  predicate: (state: TransitionState) => boolean,
  timeoutMs = 90_000,
) {
  return until(
    `the state of ${id} as expected`,
    async () => {
      const state = await stateVia(api, id);
      return predicate(state) ? state : undefined;
    },
    timeoutMs,
  );
}

function waitForMail(subject: string) {
  return until(`the mail "${subject}"`, async () => mail.find((m) => m.subject === subject));
}

/** Opens the approval link from the email on `api` (the load balancer sent it there) and presses Approve. */
async function approveFromMail(api: Host, title: string, comment: string) {
  const email = await waitForMail(`Approval needed: ${title} for Acme Dental LLC`);
  const link = new URL(linkIn(email, 'approvals'));
  const onApi = `${api.url}${link.pathname}`;
  const page = await fetch(onApi);
  expect(page.status).toBe(200);
  // A browser behind the load balancer says it comes from the public origin.
  const posted = await postForm(
    onApi,
    { decision: 'approve', comment, csrf: csrfIn(await page.text()) },
    { origin: publicUrl },
  );
  expect([title, posted.status]).toEqual([title, 200]);
}

async function completeTask(
  api: Host,
  id: string,
  taskId: string,
  evidence: Record<string, unknown>,
  key = operatorKey,
) {
  await waitForState(api, id, (state) =>
    state.tasks.some((task) => task.id === taskId && task.status === 'open'),
  );
  const response = await call(
    api,
    'POST',
    `/v1/transitions/${id}/tasks/${taskId}/complete`,
    { evidence },
    key,
  );
  expect([taskId, response.status]).toEqual([taskId, 200]);
}

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'msp-multi-host-'));
  [postgres, s3] = await Promise.all([startPostgres(), startS3Server()]);
  const documentsUrl = await s3.createBucket(bucket, 'documents/');
  temporal = await startTemporalCluster({
    postgresUrl: postgres.url,
    namespace: 'default',
    retentionDays: 1,
    logDir: scratch,
  });
  mailbox = await startMailbox(path.join(scratch, 'mailbox'), {
    onMessage: (raw) => void simpleParser(raw).then((parsed) => mail.push(parsed)),
  });
  const [apiPortA, apiPortB] = [await freePort(), await freePort()];
  // The address people reach (the load balancer's); here it is API a's.
  publicUrl = `http://127.0.0.1:${apiPortA}`;
  const shared = {
    TEMPORAL_ADDRESS: temporal.address,
    TASK_QUEUE: `multi-host-${apiPortA}`,
    PUBLIC_URL: publicUrl,
    SMTP_URL: mailbox.url,
    DOCUMENTS_URL: documentsUrl,
    STATE_DB_URL: postgres.url,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    // Every host shares the keys through its configuration: nothing is generated into a DATA_DIR.
    LINK_SECRET: randomBytes(32).toString('base64'),
    VAULT_KEY: randomBytes(32).toString('base64'),
    CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    API_KEYS: `ops[Alex Kim|Systems engineer]:operator:${operatorKey},audit:auditor:${auditorKey},validator[Morgan Lee|Compliance officer]:operator:${validatorKey}`,
    LOG_LEVEL: 'info',
  };
  for (const name of ['worker-a', 'worker-b'])
    startHost(name, 'worker', shared, await mkdtemp(path.join(scratch, `${name}-`)));
  for (const [name, port] of [
    ['api-a', apiPortA],
    ['api-b', apiPortB],
  ] as const) {
    const host = startHost(
      name,
      'api',
      { ...shared, PORT: String(port) },
      await mkdtemp(path.join(scratch, `${name}-`)),
    );
    host.url = `http://127.0.0.1:${port}`;
  }
  for (const worker of hosts.filter((host) => !host.url))
    await until(
      `${worker.name} polling`,
      async () => (worker.output().includes('worker polling') ? true : undefined),
      120_000,
    );
  for (const api of apis())
    await until(
      `${api.name} ready`,
      async () => ((await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined),
      60_000,
    );
  temporalClient = new Client({ connection: await Connection.connect({ address: temporal.address }) });
}, 300_000);

afterAll(async () => {
  for (const host of hosts) {
    seen.push(...processTree(host.child.pid!));
    try {
      process.kill(-host.child.pid!, 'SIGTERM');
    } catch {
      // that host's group is gone already (the one killed mid-run)
    }
  }
  killStillRunning(await stillRunningAfter(seen, 20_000));
  await temporalClient?.connection.close();
  await mailbox?.close();
  await temporal?.stop();
  await Promise.all([postgres?.stop(), s3?.stop()]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 120_000);

/** The worker process that completed the run's latest workflow task: it holds the run in its cache. */
async function workerHolding(id: string): Promise<Host> {
  const history = await temporalClient.workflow.getHandle(id).fetchHistory();
  const identity = history.events
    ?.map((event) => event.workflowTaskCompletedEventAttributes?.identity)
    .filter((found): found is string => Boolean(found))
    .at(-1);
  const pid = Number(identity?.split('@')[0]);
  const holder = hosts.find(
    (host) => !host.url && processTree(host.child.pid!).some((process) => process.pid === pid),
  );
  if (!holder)
    throw new Error(`no worker host runs the process ${identity} that completed the last workflow task`);
  return holder;
}

describe('two workers and two APIs sharing a Temporal cluster, PostgreSQL and S3', () => {
  it('run a full offboarding through a kill -9 of the worker holding it and of Temporal history, matching and frontend: every email once, the chain verified, everything served by either API', async () => {
    const [apiA, apiB] = apis() as [Host, Host];
    const body = offboardingBody({
      terms: {
        noticeReceivedAt: new Date().toISOString(),
        noticePeriod: 'PT25S',
        transitionPeriod: 'PT30S',
        retentionPeriod: 'PT2S',
        approvalTimeout: 'PT10M',
        reminderInterval: 'PT5M',
      },
      ...oneOfEach,
    });
    const id = `offboarding-${body.client.id}`;
    expect((await call(apiB, 'POST', '/v1/transitions', body)).status).toBe(201);

    await completeTask(apiA, id, 'data-export.ehr-backups', { text: '12.4 GiB exported' });
    await approveFromMail(apiB, 'Data export manifest', 'All files received.');

    // Mid-step: the cutover waits for its date. The worker that holds the run dies with everything it runs.
    await waitForState(apiA, id, (state) => state.currentStep === 'cutover');
    const victim = await workerHolding(id);
    const victimProcesses = processTree(victim.child.pid!);
    seen.push(...victimProcesses);
    const eventsBeforeKill = (await temporalClient.workflow.getHandle(id).fetchHistory()).events!.length;
    process.kill(-victim.child.pid!, 'SIGKILL');
    expect((await stillRunningAfter(victimProcesses, 10_000)).filter(isRunning)).toEqual([]);
    // The history service, which owns the run's shard and the cutover's timer, dies the same way and
    // comes back on its ports.
    await temporal.crashAndRestart('history');

    // The survivor takes the run over when the cutover's timer fires.
    await approveFromMail(apiA, 'Agent removal record', 'Go ahead.');
    // Then matching, which holds the task queues the workers poll.
    await temporal.crashAndRestart('matching');
    await completeTask(apiB, id, 'agent-removal.srv-01', { text: 'agents uninstalled' });
    await approveFromMail(apiB, 'Credential rotation and access revocation record', '');
    await waitForState(apiA, id, (state) =>
      state.credentials.some(
        (credential) => credential.id === 'domain-admin' && credential.status === 'awaiting',
      ),
    );
    // Stored through one API, revealed through the other: the vault is the database's.
    const rotated = 'N3w-Dom@in-Admin-Secret-7781';
    expect(
      (await call(apiA, 'POST', `/v1/transitions/${id}/credentials/domain-admin`, { secret: rotated }))
        .status,
    ).toBe(201);
    const revealMail = await waitForMail(
      'New credential ready: msp-admin on Active Directory for Acme Dental LLC',
    );
    const revealOnB = `${apiB.url}${new URL(linkIn(revealMail, 'reveal')).pathname}`;
    const revealed = await postForm(
      revealOnB,
      { csrf: csrfIn(await (await fetch(revealOnB)).text()) },
      { origin: publicUrl },
    );
    expect(revealed.status).toBe(200);
    expect(await revealed.text()).toContain(rotated);
    // Then the frontend, through which every worker and API reaches the cluster.
    await temporal.crashAndRestart('frontend');
    await completeTask(apiA, id, 'credential-rotation.domain-admin', { text: 'msp-admin disabled' });
    await approveFromMail(apiA, 'Certificate of data deletion', 'Delete it.');
    await completeTask(apiB, id, 'retention-deletion.ehr-backups', { text: 'All copies purged' });
    await completeTask(
      apiA,
      id,
      'retention-deletion.ehr-backups.validation',
      { text: 'Listed again', validation: { verificationMethod: 'listing', verificationResult: 'passed' } },
      validatorKey,
    );
    const final = await waitForState(apiB, id, (state) => state.status === 'completed', 120_000);
    expect(final.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));
    // The other worker ran the rest of the run.
    const survivor = hosts.find((host) => !host.url && host !== victim)!;
    const survivorPids = new Set(processTree(survivor.child.pid!).map((found) => found.pid));
    const laterTasks = (await temporalClient.workflow.getHandle(id).fetchHistory())
      .events!.slice(eventsBeforeKill)
      .map((event) => event.workflowTaskCompletedEventAttributes?.identity)
      .filter((identity): identity is string => Boolean(identity));
    expect(laterTasks.length).toBeGreaterThan(0);
    expect(laterTasks.filter((identity) => !survivorPids.has(Number(identity.split('@')[0])))).toEqual([]);

    // Each email went once: the Message-ID is derived from the ledger's idempotency key.
    const byMessage = new Map<string, number>();
    for (const message of mail)
      byMessage.set(message.messageId!, (byMessage.get(message.messageId!) ?? 0) + 1);
    expect([...byMessage.values()].filter((count) => count > 1)).toEqual([]);
    // And no two say the same to the same people (but the 7-day and 1-day reminders of a date,
    // which with periods of seconds go out together and read alike).
    const contents = mail
      .filter((message) => !message.subject?.startsWith('Reminder:'))
      .map((message) => JSON.stringify([message.to, message.subject, message.text]));
    expect(contents.filter((entry) => entry.includes('Approval needed'))).toHaveLength(4);
    expect(contents.filter((entry, index) => contents.indexOf(entry) !== index)).toEqual([]);

    // Either API serves the same documents, the audit with its verified chain, and the pack.
    const listings = await Promise.all(
      [apiA, apiB].map(
        async (api) =>
          (await (
            await call(api, 'GET', `/v1/transitions/${id}/documents`, undefined, auditorKey)
          ).json()) as { documents: { id: string; sha256: string; previousSha256: string | null }[] },
      ),
    );
    expect(listings[0]!.documents).toHaveLength(8);
    expect(listings[1]).toEqual(listings[0]);
    let previous: string | null = null;
    for (const [index, doc] of listings[0]!.documents.entries()) {
      const api = index % 2 === 0 ? apiA : apiB;
      const markdown = Buffer.from(
        await (
          await call(api, 'GET', `/v1/transitions/${id}/documents/${doc.id}`, undefined, auditorKey)
        ).arrayBuffer(),
      );
      expect(createHash('sha256').update(markdown).digest('hex')).toBe(doc.sha256);
      expect(doc.previousSha256).toBe(previous);
      previous = doc.sha256;
    }
    for (const api of [apiA, apiB]) {
      const audit = (await (
        await call(api, 'GET', `/v1/transitions/${id}/audit`, undefined, auditorKey)
      ).json()) as {
        verification: { valid: boolean; documents: number };
        entries: unknown[];
      };
      expect([api.name, audit.verification]).toEqual([
        api.name,
        { valid: true, documents: 8, firstBroken: null },
      ]);
      const pack = await call(api, 'GET', `/v1/transitions/${id}/pack`, undefined, auditorKey);
      expect(pack.status).toBe(200);
      const files = unzipSync(new Uint8Array(await pack.arrayBuffer()));
      const manifest = JSON.parse(strFromU8(files['manifest.json']!)) as {
        files: { path: string; sha256: string }[];
      };
      expect(manifest.files.filter((file) => file.path.startsWith('documents/'))).toHaveLength(24);
      for (const file of manifest.files)
        expect(createHash('sha256').update(files[file.path]!).digest('hex')).toBe(file.sha256);
    }

    // The documents and the archive are in the bucket, the ledger and the vault in the database, and
    // no host's DATA_DIR holds any of them.
    const client = s3.client();
    const objects = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `documents/${id}/` }),
    );
    client.destroy();
    const keys = (objects.Contents ?? []).map((object) => object.Key!);
    expect(keys.filter((key) => key.endsWith('.json'))).toHaveLength(8);
    expect(keys.some((key) => key.endsWith('/archive/history.binpb'))).toBe(true);
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    const ledger = await db.query<{ state: string }>('SELECT state FROM side_effect_ledger');
    const vault = await db.query('SELECT vault_id FROM vault_versions');
    await db.end();
    // Every effect ended (none left claimed), and every email received has its entry.
    expect(ledger.rows.filter((row) => row.state === 'claimed')).toEqual([]);
    expect(ledger.rows.length).toBeGreaterThanOrEqual(byMessage.size);
    expect(vault.rows).toEqual([{ vault_id: `${id}/credential-rotation/domain-admin` }]);
    for (const host of hosts) {
      const files = await filesUnder(host.dataDir);
      expect([host.name, files.filter((file) => /^(documents|ledger|vault|keys)\//.test(file))]).toEqual([
        host.name,
        [],
      ]);
    }
    for (const host of hosts) expect(host.output()).not.toContain(rotated);

    // Failed link attempts count in the database: half on each API make the limit for both. Last,
    // since this address is then refused for a minute.
    const forged = (api: Host, attempt: number) => fetch(`${api.url}/approvals/forged-token-${attempt}`);
    for (let attempt = 0; attempt < failedLinkAttemptsPerMinute; attempt++)
      expect((await forged(attempt % 2 === 0 ? apiA : apiB, attempt)).status).not.toBe(429);
    // A failure is counted once it has been answered, so the count may trail the last answer a moment.
    let attempt = failedLinkAttemptsPerMinute;
    await expect.poll(async () => (await forged(apiA, attempt++)).status).toBe(429);
    expect((await forged(apiB, attempt)).status).toBe(429);
  }, 420_000);
});
