// Entry point of an API process (`npm run api`; the embedded run starts one too).
import { loadConfigOrExit } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { stopWithSupervisor } from '../embedded/supervised.js';
import { startApi } from '../api/server.js';

async function main(): Promise<void> {
  stopWithSupervisor();
  const config = loadConfigOrExit();
  if (config.apiKeys.length === 0) {
    process.stderr.write('API_KEYS: at least one name:role:secret entry is needed to run the API\n');
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  const api = await startApi(config, logger);
  logger.info({ port: api.port, publicUrl: config.publicUrl }, 'api listening');
  const stop = () => {
    api.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`api failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
