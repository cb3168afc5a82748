// The runbook worker: the real dependencies of the activities, built from config, and a worker
// polling the task queue with the workflows and activities. `bin/worker.ts` runs it.
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { createAutomationActivities } from '../activities/automation.js';
import { loadVaultKeys } from '../connectors/vault/vault-keys.js';
import { createTemplateRenderer } from '../templates/render.js';
import { projectRoot, type Config } from '../config/config.js';
import type { DataConverter } from '@temporalio/common';
import { createSmtpMailer } from '../connectors/mail/smtp.js';
import type { Stores } from '../connectors/stores.js';
import { loadLinkSecrets } from '../security/links.js';
import { dataConverterOptions, loadCodecKeys } from '../security/payload-codec.js';
import { chainHeaderInterceptor } from './chain-header.js';
import { runReader } from './run-reader.js';

/** The worker deployment every runbook worker belongs to. */
export const deploymentName = 'msp-runbooks';

export const workflowsPath = path.join(projectRoot, 'workflows', 'index.ts');

/** The workflow interceptors every bundle of the workflows carries (the chain header of activities). */
export const workflowInterceptorModules = [path.join(projectRoot, 'workflows', 'interceptors.ts')];

/** The activity interceptors every runbook worker runs. */
export const runbookInterceptors = {
  workflowModules: workflowInterceptorModules,
  activity: [chainHeaderInterceptor],
};

/** The real dependencies of the activities, from config and the opened stores. */
export async function buildActivityDeps(config: Config, stores: Stores, dataConverter: DataConverter) {
  if (!config.smtpUrl) throw new Error('SMTP_URL is required to run a worker (the embedded run sets it).');
  return {
    documents: stores.documents,
    mailer: createSmtpMailer(config.smtpUrl, config.mailFrom),
    templates: createTemplateRenderer(path.join(projectRoot, 'templates')),
    ledger: stores.ledger,
    publicUrl: config.publicUrl,
    msp: config.msp,
    linkSecrets: await loadLinkSecrets(config.dataDir, config.linkSecret),
    // A lazily connected client: the worker may start before Temporal answers.
    ...runReader(
      new Client({
        connection: Connection.lazy({ address: config.temporal.address ?? 'localhost:7233' }),
        namespace: config.temporal.namespace,
        dataConverter,
      }),
    ),
    // The automated connectors read their connections' secrets from the vault, inside the activity only.
    vault: stores.vault(await loadVaultKeys(config.dataDir, config.vaultKey)),
    connections: stores.connections,
  };
}

/** The runbook's activities and the automated connectors', from the same dependencies. */
async function buildActivities(config: Config, stores: Stores, dataConverter: DataConverter) {
  const deps = await buildActivityDeps(config, stores, dataConverter);
  return { ...createActivities(deps), ...createAutomationActivities(deps) };
}

/** A worker polling the configured task queue with the runbook workflows and activities. */
export async function createRunbookWorker(
  config: Config,
  connection: NativeConnection,
  stores: Stores,
  options: Partial<WorkerOptions> = {},
): Promise<Worker> {
  const dataConverter = dataConverterOptions(await loadCodecKeys(config.dataDir, config.codecKeys));
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    // Bundled ahead of time in production (`npm run build:workflows`): a worker starts without webpack.
    ...(config.workflowBundle ? { workflowBundle: { codePath: config.workflowBundle } } : { workflowsPath }),
    dataConverter,
    activities: await buildActivities(config, stores, dataConverter),
    interceptors: runbookInterceptors,
    // The build is recorded on each workflow task, so a deploy is visible per run (the state shows
    // which build a run started on). Tasks are not routed by build: runbooks run for months, longer
    // than any build is kept, so they move to the new code at every deploy, guarded by patches.
    workerDeploymentOptions: {
      version: { deploymentName: deploymentName, buildId: config.buildId },
      useWorkerVersioning: false,
    },
    ...options,
  });
}
