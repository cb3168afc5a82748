// Entry point of a worker process (`npm run worker`; the embedded run starts one too).
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfigOrExit } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { openStores } from '../connectors/stores.js';
import { stopWithSupervisor } from '../embedded/supervised.js';
import { dataConverterOptions, loadCodecKeys } from '../security/payload-codec.js';
import { ensureArchiveSweep } from '../worker/archive-sweep-schedule.js';
import { createRunbookWorker } from '../worker/runbook-worker.js';

async function main(): Promise<void> {
  stopWithSupervisor();
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel).child({ component: 'worker' });
  const address = config.temporal.address ?? 'localhost:7233';
  const connection = await NativeConnection.connect({ address });
  const stores = await openStores(config);
  const worker = await createRunbookWorker(config, connection, stores);
  const client = new Client({
    connection: await Connection.connect({ address }),
    namespace: config.temporal.namespace,
    dataConverter: dataConverterOptions(await loadCodecKeys(config.dataDir, config.codecKeys)),
  });
  // Housekeeping: a Temporal that cannot take the schedule yet must not keep the worker from polling.
  await ensureArchiveSweep(client, config.temporal.taskQueue).catch((error: unknown) =>
    logger.warn({ err: error }, 'archive sweep schedule not in place yet; the next worker start tries again'),
  );
  await client.connection.close();
  logger.info({ address, taskQueue: config.temporal.taskQueue }, 'worker polling');
  // Worker.run() returns once SIGINT/SIGTERM have drained in-flight tasks (the SDK installs those handlers).
  await worker.run();
  await connection.close();
  await stores.close();
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
