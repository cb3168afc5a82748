// A real Temporal cluster, as production runs one: temporal-server (built from its Go module by
// scripts/temporal-cluster.mjs) as four processes, one per service, on PostgreSQL persistence and
// SQL visibility, the databases set up by temporal-sql-tool with the module's schemas (compiled into
// the tool). Each service reads the server's built-in config template, the one the temporalio/server
// image reads, from the environment variables docker-compose.yml sets too; here the ports are free
// ones, the membership ports below 32768 (PostgreSQL keeps them in a smallint column).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import protos from '@temporalio/proto';
import pg from 'pg';
import { hostPort } from '../../config/addresses.js';
import { projectRoot } from '../../config/config.js';
import { searchAttributeRegistrations } from '../../domain/definitions.js';
import { temporalCli } from '../../embedded/temporal.js';
import { temporalCluster } from '../../scripts/temporal-cluster.mjs';
import { freePort, freePortBelow32768 } from './ports.js';

const run = promisify(execFile);

export type TemporalService = 'frontend' | 'history' | 'matching' | 'worker';
const services: TemporalService[] = ['frontend', 'history', 'matching', 'worker'];

/** The service's role in cluster_membership (persistence.ServiceType). */
const membershipRole: Record<TemporalService, number> = { frontend: 1, history: 2, matching: 3, worker: 4 };

/**
 * The gRPC health service each one reports, SERVING once it can serve (history: once it owns its
 * shards). The worker service, which runs Temporal's own system workflows, answers none.
 */
const healthService: Record<TemporalService, string | undefined> = {
  frontend: 'temporal.api.workflowservice.v1.WorkflowService',
  history: 'temporal.api.workflowservice.v1.HistoryService',
  matching: 'temporal.api.workflowservice.v1.MatchingService',
  worker: undefined,
};

export interface TemporalClusterOptions {
  /** A PostgreSQL role that may create databases: `postgres://user:password@host:port/any`. */
  postgresUrl: string;
  namespace: string;
  retentionDays: number;
  /** One log per service, `temporal-<service>.log`, appended to across restarts. */
  logDir: string;
}

export interface TemporalCluster {
  /** The frontend's `host:port`. */
  address: string;
  /** `kill -9` of one service, then the same service started again; resolves once it serves again. */
  crashAndRestart(service: TemporalService): Promise<void>;
  stop(): Promise<void>;
}

const servingStatus = protos.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;

/** The two databases, each with the schema temporal-sql-tool carries for it. */
const databases = {
  persistence: { name: 'temporal', schema: 'postgresql/v12/temporal' },
  visibility: { name: 'temporal_visibility', schema: 'postgresql/v12/visibility' },
};

/** Creates both databases and brings each to the newest schema the tool carries. */
async function setUpDatabases(db: URL): Promise<void> {
  const connection = {
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: db.hostname,
    SQL_PORT: db.port,
    SQL_USER: decodeURIComponent(db.username),
    SQL_PASSWORD: decodeURIComponent(db.password),
  };
  // The command lines of docker-compose.yml's temporal-schema.
  const sqlTool = (database: string, ...args: string[]) =>
    run(temporalCluster.sqlTool, ['--database', database, ...args], {
      env: { PATH: process.env.PATH, ...connection },
      timeout: 120_000,
    });
  await Promise.all(
    Object.values(databases).map(async ({ name, schema }) => {
      await sqlTool(name, 'create-database');
      await sqlTool(name, 'setup-schema', '--version', '0.0');
      await sqlTool(name, 'update-schema', '--schema-name', schema);
    }),
  );
}

/** The environment of the server's config template: the stores, and every service's ports. */
async function clusterEnvironment(db: URL): Promise<Record<string, string>> {
  const ports: Record<string, string> = {};
  for (const service of services) {
    const prefix = service.toUpperCase();
    ports[`${prefix}_GRPC_PORT`] = String(await freePort());
    ports[`${prefix}_MEMBERSHIP_PORT`] = String(await freePortBelow32768());
  }
  ports.FRONTEND_HTTP_PORT = String(await freePort());
  return {
    DB: 'postgres12',
    POSTGRES_SEEDS: db.hostname,
    DB_PORT: db.port,
    POSTGRES_USER: decodeURIComponent(db.username),
    POSTGRES_PWD: decodeURIComponent(db.password),
    DBNAME: databases.persistence.name,
    VISIBILITY_DBNAME: databases.visibility.name,
    BIND_ON_IP: '127.0.0.1',
    ...ports,
    DYNAMIC_CONFIG_FILE_PATH: path.join(projectRoot, 'config', 'temporal-dynamic-config.yaml'),
    LOG_LEVEL: 'warn',
    // No authorizer: the cluster answers on loopback only.
    TEMPORAL_ALLOW_NO_AUTH: 'true',
  };
}

/**
 * Starts the four services on the PostgreSQL server of `postgresUrl`, then registers the namespace
 * and the project's search attributes with the Temporal CLI.
 */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  if (!temporalCluster.built())
    throw new Error(
      `temporal-server ${temporalCluster.version} is not built: \`npm test\` builds it (scripts/prepare.mjs), or run \`npm_lifecycle_event=pretest node scripts/prepare.mjs\``,
    );
  const db = new URL(options.postgresUrl);
  await setUpDatabases(db);
  const environment = await clusterEnvironment(db);
  const address = hostPort('127.0.0.1', Number(environment.FRONTEND_GRPC_PORT));
  const persistenceUrl = new URL(db);
  persistenceUrl.pathname = `/${databases.persistence.name}`;
  const running = new Map<TemporalService, ChildProcess>();
  const logOf = (service: TemporalService) => path.join(options.logDir, `temporal-${service}.log`);

  /** The members of the service's role, from a connection of its own (the services are checked at once). */
  async function hostsOf(service: TemporalService): Promise<string[]> {
    const client = new pg.Client({ connectionString: persistenceUrl.toString() });
    await client.connect();
    try {
      const { rows } = await client.query<{ host: string }>(
        "SELECT encode(host_id, 'hex') AS host FROM cluster_membership WHERE role = $1",
        [membershipRole[service]],
      );
      return rows.map((row) => row.host);
    } finally {
      await client.end();
    }
  }

  /** Ready: a new member of its role in the cluster, and SERVING where it reports health. */
  async function start(service: TemporalService): Promise<void> {
    const earlierHosts = new Set(await hostsOf(service));
    const log = openSync(logOf(service), 'a');
    const child = spawn(temporalCluster.server, ['start'], {
      env: { PATH: process.env.PATH, ...environment, TEMPORAL_SERVICES: service },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    running.set(service, child);
    const health = healthService[service];
    const grpc = Connection.lazy({
      address: hostPort('127.0.0.1', Number(environment[`${service.toUpperCase()}_GRPC_PORT`])),
    });
    const serving = async () =>
      (await hostsOf(service)).some((host) => !earlierHosts.has(host)) &&
      (health === undefined ||
        (await grpc.healthService.check({ service: health })).status === servingStatus);
    const deadline = Date.now() + 90_000;
    try {
      // Until then the probes fail (refused, not a member yet) or answer NOT_SERVING.
      while (!(await serving().catch(() => false))) {
        const failure =
          child.exitCode !== null || child.signalCode !== null
            ? 'exited'
            : Date.now() > deadline && 'did not serve within 90 s';
        if (failure)
          throw new Error(
            `temporal-server (${service}) ${failure}; ${logOf(service)} ends with:\n${readFileSync(logOf(service), 'utf8').slice(-3000)}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      await grpc.close();
    }
  }

  async function kill(service: TemporalService, signal: NodeJS.Signals): Promise<void> {
    const child = running.get(service);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async function stop(): Promise<void> {
    await Promise.all(services.map((service) => kill(service, 'SIGTERM')));
  }

  try {
    // One at first: each service writes the cluster's metadata into a new database when it finds
    // none, and services racing to do so fail with "failed to initialize current cluster metadata".
    await start('frontend');
    await Promise.all(services.filter((service) => service !== 'frontend').map(start));
    const cli = (...args: string[]) =>
      run(temporalCli(), ['operator', ...args, '--address', address, '--namespace', options.namespace], {
        timeout: 30_000,
      });
    await cli('namespace', 'create', '--retention', `${options.retentionDays * 24}h`);
    for (const { name, type } of searchAttributeRegistrations)
      await cli('search-attribute', 'create', '--name', name, '--type', type);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    address,
    async crashAndRestart(service) {
      await kill(service, 'SIGKILL');
      await start(service);
    },
    stop,
  };
}
