// `npm run histories:record`: runs every scenario of ./scenarios.ts on Temporal's time-skipping test
// server with the real activities, stops each run in its state, and saves its history (protobuf
// `temporal.api.history.v1.History`, as the archive keeps it) under histories/<version>/. Fixtures of a released
// version are only ever added, never rewritten: an existing file is left as it is.
import { runReader } from '../../worker/run-reader.js';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { createAutomationActivities } from '../../activities/automation.js';
import { createActivities } from '../../activities/index.js';
import { createFilesystemConnectionStore } from '../../connectors/connections/filesystem.js';
import { createLocalVault } from '../../connectors/vault/local.js';
import { createFileLedger } from '../../activities/ledger.js';
import { encodeHistory } from '../../audit/history-codec.js';
import { projectRoot } from '../../config/config.js';
import { createFilesystemDocumentStore } from '../../connectors/documents/filesystem.js';
import { createSmtpMailer } from '../../connectors/mail/smtp.js';
import { runbookInput } from '../../api/runbook-input.js';
import { retryUpdate } from '../../domain/definitions.js';
import { startRequestSchema } from '../../domain/schemas.js';
import { startMailbox } from '../../embedded/mailbox.js';
import { registerSearchAttributes, temporalTestServer } from '../../embedded/temporal.js';
import { createTemplateRenderer } from '../../templates/render.js';
import { runbookInterceptors, workflowsPath } from '../../worker/runbook-worker.js';
import { refusedDomain, refusing } from '../support/refusing-mailer.js';
import { fixtureDataConverter, historiesDir, historyExtension } from './fixtures.js';
import { scenarios, type Scenario } from './scenarios.js';
import { continuedInto } from '../../audit/runs.js';
import { defaultHistoryBudget } from '../../domain/definitions.js';

const taskQueue = 'replay-recorder';
const recorderControl = { actor: 'recorder', reason: 'recorded for the replay tests' };
/** Until the stalled scenario is recorded, the mail server refuses mail to `refusedDomain`. */
let refuseMail = true;

const mailDomain = (scenario: Scenario, domain: string) => (scenario.mailRefused ? refusedDomain : domain);

/** The request of a scenario: the same scope for every run, so histories differ only by their moves. */
function requestOf(scenario: Scenario, now: string) {
  const common = {
    client: { id: scenario.name, name: `Replay ${scenario.name}`, timezone: 'America/Chicago' },
    requestedBy: 'ops@msp.example',
    contacts: {
      approvers: [{ name: 'Dana Reyes', email: `dana@${mailDomain(scenario, 'client.example')}` }],
      operators: [{ name: 'MSP Ops', email: `ops@${mailDomain(scenario, 'msp.example')}` }],
    },
    scope: {
      devices: [
        { id: 'srv-01', hostname: 'srv-01.client.local', type: 'server', agents: ['rmm', 'backup'] },
        ...(scenario.goneConnection
          ? [
              {
                id: 'srv-02',
                hostname: 'srv-02.client.local',
                type: 'server',
                agents: ['rmm'],
                connector: 'ssh',
                connection: 'gone-ssh',
              },
            ]
          : []),
        ...Array.from({ length: scenario.devices ?? 0 }, (_, i) => ({
          id: `ws-${i}`,
          hostname: `ws-${i}.client.local`,
          type: 'workstation',
          agents: ['rmm'],
        })),
      ],
      credentials: [{ id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' }],
      dataSets: [{ id: 'ehr', description: 'EHR database backups' }],
      backupJobs: [{ id: 'srv-01-nightly', device: 'srv-01', rto: 'PT4H' }],
    },
  };
  const body =
    scenario.kind === 'offboarding'
      ? {
          ...common,
          kind: 'offboarding',
          terms: {
            noticeReceivedAt: now,
            noticePeriod: 'P30D',
            transitionPeriod: 'P60D',
            retentionPeriod: 'P90D',
          },
        }
      : {
          ...common,
          kind: 'onboarding',
          terms: { startAt: new Date(Date.parse(now) + 86_400_000).toISOString() },
          approvalSteps: ['discovery', 'service-acceptance'],
        };
  return startRequestSchema.parse(body);
}

async function main(): Promise<void> {
  const version = (
    JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const outDir = path.join(historiesDir, version);
  const only = process.argv.slice(2);
  const wanted = scenarios.filter(
    (scenario) =>
      (only.length === 0 || only.includes(scenario.name)) &&
      !existsSync(path.join(outDir, `${scenario.name}${historyExtension}`)),
  );
  if (wanted.length === 0) {
    process.stdout.write(`[record] every scenario of ${version} is recorded already\n`);
    return;
  }
  await mkdir(outDir, { recursive: true });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'msp-record-'));
  const dataConverter = await fixtureDataConverter();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServer() } },
    client: { dataConverter },
  });
  const mailboxDir = path.join(dataDir, 'mailbox');
  const mailbox = await startMailbox(mailboxDir);
  try {
    await registerSearchAttributes(env.connection, 'default');
    const documents = createFilesystemDocumentStore(path.join(dataDir, 'documents'));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath,
      dataConverter,
      interceptors: runbookInterceptors,
      activities: {
        ...createAutomationActivities({
          vault: createLocalVault(path.join(dataDir, 'vault'), [{ id: 'v1', key: randomBytes(32) }]),
          connections: createFilesystemConnectionStore(path.join(dataDir, 'connections')),
          retryDelaysMs: [],
        }),
        ...createActivities({
          documents,
          mailer: refusing(createSmtpMailer(mailbox.url, 'runbooks@msp.example'), () => refuseMail),
          templates: createTemplateRenderer(path.join(projectRoot, 'templates')),
          ledger: createFileLedger(path.join(dataDir, 'ledger')),
          publicUrl: 'http://runbooks.test',
          msp: { name: 'Replay MSP' },
          linkSecrets: [{ id: 'l1', key: Buffer.alloc(32, 7) }],
          ...runReader(env.client),
          listRuns: async () => [],
        }),
      },
    });
    await worker.runUntil(async () => {
      for (const scenario of wanted) {
        const now = new Date(await env.currentTimeMs()).toISOString();
        const workflowId = `${scenario.kind}-${scenario.name}`;
        const handle = await env.client.workflow.start(`${scenario.kind}Workflow`, {
          taskQueue,
          workflowId,
          args: [
            await runbookInput(
              documents,
              workflowId,
              requestOf(scenario, now),
              'recorder',
              scenario.continuesAfterEvents
                ? { events: scenario.continuesAfterEvents, bytes: defaultHistoryBudget.bytes }
                : undefined,
            ),
          ],
        });
        for (const move of scenario.moves) await move({ env, handle, mailboxDir });
        const history = await handle.fetchHistory();
        await writeFile(path.join(outDir, `${scenario.name}${historyExtension}`), encodeHistory(history));
        // Each run the chain continued from, first to last: a history that ends in continue-as-new.
        let runId: string | null = handle.firstExecutionRunId;
        for (let part = 0; runId && scenario.continuesAfterEvents; part++) {
          const earlier = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
          runId = continuedInto(earlier);
          if (!runId) break;
          await writeFile(
            path.join(outDir, `${scenario.name}.run-${part}${historyExtension}`),
            encodeHistory(earlier),
          );
        }
        // Recorded. A stalled run would go on retrying through every later scenario's skipped months
        // (thousands of rounds): the mail server takes its mail again and an operator retries at once.
        if (scenario.mailRefused) {
          refuseMail = false;
          await handle.executeUpdate(retryUpdate, { args: [{ ...recorderControl, reason: 'mail is back' }] });
        }
        process.stdout.write(`[record] ${version}/${scenario.name}: ${history.events?.length ?? 0} events\n`);
      }
    });
  } finally {
    await env.teardown();
    await mailbox.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `[record] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
