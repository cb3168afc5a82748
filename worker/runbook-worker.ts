// The runbook worker: the real dependencies of the activities, built from config, and a worker
// polling the task queue with the workflows and activities. `bin/worker.ts` runs it.
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { encodeHistory } from '../audit/history-codec.js';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { createTemplateRenderer } from '../templates/render.js';
import { projectRoot, type Config } from '../config/config.js';
import type { RunRef } from '../connectors/documents/port.js';
import { createSmtpMailer } from '../connectors/mail/smtp.js';
import type { Stores } from '../connectors/stores.js';
import { loadLinkSecret } from '../security/links.js';
import { dataConverterOptions, loadCodecKeys } from '../security/payload-codec.js';

/** The worker deployment every runbook worker belongs to. */
export const deploymentName = 'msp-runbooks';

export const workflowsPath = path.join(projectRoot, 'workflows', 'index.ts');

/** The real dependencies of the activities, from config and the opened stores. */
export async function buildActivityDeps(config: Config, stores: Stores) {
  if (!config.smtpUrl) throw new Error('SMTP_URL is required to run a worker (the embedded run sets it).');
  return {
    documents: stores.documents,
    mailer: createSmtpMailer(config.smtpUrl, config.mailFrom),
    templates: createTemplateRenderer(path.join(projectRoot, 'templates')),
    ledger: stores.ledger,
    publicUrl: config.publicUrl,
    msp: config.msp,
    linkSecret: await loadLinkSecret(config.dataDir, config.linkSecret),
    ...historyReader(config),
  };
}

/** Reads runs' raw histories and lists runs through a lazily connected client (for the audit archive). */
function historyReader(config: Config) {
  const connection = Connection.lazy({ address: config.temporal.address ?? 'localhost:7233' });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  return {
    historyBytes: async (run: RunRef) =>
      encodeHistory(await client.workflow.getHandle(run.transitionId, run.runId).fetchHistory()),
    listRuns: async (query: string) => {
      const runs: RunRef[] = [];
      for await (const info of client.workflow.list({ query })) {
        runs.push({ transitionId: info.workflowId, runId: info.runId });
      }
      return runs;
    },
  };
}

/** A worker polling the configured task queue with the runbook workflows and activities. */
export async function createRunbookWorker(
  config: Config,
  connection: NativeConnection,
  stores: Stores,
  options: Partial<WorkerOptions> = {},
): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath,
    dataConverter: dataConverterOptions(await loadCodecKeys(config.dataDir, config.codecKeys)),
    activities: createActivities(await buildActivityDeps(config, stores)),
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
