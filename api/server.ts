// The API server: the app from createApp, listening, with one bounded Temporal connection and a
// clean close. `bin/api.ts` runs it; tests start it directly.
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import { hostPort, reachableHost } from '../config/addresses.js';
import type { Config } from '../config/config.js';
import { openStores } from '../connectors/stores.js';
import { loadVaultKeys } from '../connectors/vault/vault-keys.js';
import { loadLinkSecrets } from '../security/links.js';
import { dataConverterOptions, loadCodecKeys } from '../security/payload-codec.js';
import { createLogger } from '../config/logger.js';
import { createApp } from './app.js';
import { temporalConnection } from './temporal-connection.js';

export interface RunningApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the API on `config.host`:`config.port` (0 picks a free port) with one lazy Temporal connection, every call bounded. */
export async function startApi(config: Config, logger = createLogger(config.logLevel)): Promise<RunningApi> {
  const connection = temporalConnection(config.temporal.address ?? 'localhost:7233');
  const dataConverter = dataConverterOptions(await loadCodecKeys(config.dataDir, config.codecKeys));
  const temporal = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
  const linkSecrets = await loadLinkSecrets(config.dataDir, config.linkSecret);
  const stores = await openStores(config);
  const vault = stores.vault(await loadVaultKeys(config.dataDir, config.vaultKey));
  const app = createApp({
    temporal,
    config,
    logger: logger.child({ component: 'api' }),
    linkSecrets,
    vault,
    documents: stores.documents,
    connections: stores.connections,
    failedLinkAttempts: stores.failedLinkAttempts(),
    codec: dataConverter.payloadCodecs[0]!,
  });
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const listening = app.listen(config.port, config.host, (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${hostPort(reachableHost(config.host), port)}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
      await stores.close();
    },
  };
}
