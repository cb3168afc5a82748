// Entry point of a worker process (`npm run worker`; the embedded run starts one too).
import { NativeConnection } from '@temporalio/worker';
import { loadConfigOrExit } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { stopWithSupervisor } from '../embedded/supervised.js';
import { createRunbookWorker } from '../worker/runbook-worker.js';

async function main(): Promise<void> {
  stopWithSupervisor();
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel).child({ component: 'worker' });
  const address = config.temporal.address ?? 'localhost:7233';
  const connection = await NativeConnection.connect({ address });
  const worker = await createRunbookWorker(config, connection);
  logger.info({ address, taskQueue: config.temporal.taskQueue }, 'worker polling');
  // Worker.run() returns once SIGINT/SIGTERM have drained in-flight tasks (the SDK installs those handlers).
  await worker.run();
  await connection.close();
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
