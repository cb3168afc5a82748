import type { Client } from '@temporalio/client';
import protos from '@temporalio/proto';
import type { Config } from '../../config/config.js';
import type { Metrics } from '../metrics.js';
import { openApiDocument, type ApiRoutes } from '../routes.js';
import { temporalAwayStatus } from '../temporal-connection.js';

/** A worker long-polls for up to about a minute; one seen within this window is still polling. */
const pollerFreshMillis = 90_000;

/** Short enough that a probe with a 2-second timeout reads the 503 and its reason, not a timeout. */
export const readinessTimeoutMillis = 1_500;

/** Whether Temporal answers and a worker polls the task queue, with the reason when not. */
export async function readiness(
  temporal: Client,
  config: Config,
): Promise<{ ready: boolean; checks: Record<string, string> }> {
  try {
    const response = await temporal.withDeadline(Date.now() + readinessTimeoutMillis, () =>
      temporal.workflowService.describeTaskQueue({
        namespace: config.temporal.namespace,
        taskQueue: {
          name: config.temporal.taskQueue,
          kind: protos.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
        },
        taskQueueType: protos.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }),
    );
    const now = Date.now();
    const polling = (response.pollers ?? []).some((poller) => {
      const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
      return now - seconds * 1000 < pollerFreshMillis;
    });
    return {
      ready: polling,
      checks: { temporal: 'ok', worker: polling ? 'ok' : 'no worker polls the task queue' },
    };
  } catch (error) {
    return {
      ready: false,
      checks: {
        temporal:
          temporalAwayStatus(error) === 'timeout'
            ? `no answer within ${readinessTimeoutMillis} ms`
            : `unreachable: ${error instanceof Error ? error.message : String(error)}`,
        worker: 'unknown',
      },
    };
  }
}

export function healthRoutes(
  routes: ApiRoutes,
  deps: { temporal: Client; config: Config; metrics: Metrics; version: string },
) {
  const tag = 'health';
  routes.add(
    {
      method: 'get',
      path: '/healthz',
      summary: 'Liveness: the API process answers',
      roles: 'public',
      responses: { 200: 'Alive' },
      tag,
    },
    () => ({ status: 'ok' }),
  );
  routes.add(
    {
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: Temporal answers and a worker polls the task queue',
      roles: 'public',
      responses: { 200: 'Ready', 503: 'Not ready' },
      tag,
    },
    async ({ res }) => {
      const result = await readiness(deps.temporal, deps.config);
      res
        .status(result.ready ? 200 : 503)
        .json({ status: result.ready ? 'ready' : 'not ready', checks: result.checks });
      return undefined;
    },
  );
  routes.add(
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics',
      roles: 'public',
      responses: { 200: 'Metrics text' },
      tag,
    },
    async ({ res }) => {
      res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
      return undefined;
    },
  );
  routes.add(
    {
      method: 'get',
      path: '/openapi.json',
      summary: 'This API as OpenAPI 3',
      roles: 'public',
      responses: { 200: 'OpenAPI document' },
      tag,
    },
    () => openApiDocument(routes.specs, deps.config.publicUrl, deps.version),
  );
}
