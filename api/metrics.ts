import type { RequestHandler } from 'express';
import client from 'prom-client';

/** Prometheus metrics of the API: HTTP traffic and the transitions it starts and drives. */
export function createMetrics(count: (what: 'running' | 'stalled') => Promise<number>) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const transitionsStarted = new client.Counter({
    name: 'transitions_started_total',
    help: 'Transitions started through the API, by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const workflowActions = new client.Counter({
    name: 'workflow_actions_total',
    help: 'Signals and updates sent to transition workflows, by action and outcome.',
    labelNames: ['action', 'outcome'] as const,
    registers: [registry],
  });
  new client.Gauge({
    name: 'transitions_running',
    help: 'Transitions currently running (from Temporal visibility).',
    registers: [registry],
    async collect() {
      try {
        this.set(await count('running'));
      } catch {
        this.reset();
      }
    },
  });
  new client.Gauge({
    name: 'transitions_stalled',
    help: 'Running transitions whose side effect keeps failing (from Temporal visibility); the state says which and why.',
    registers: [registry],
    async collect() {
      try {
        this.set(await count('stalled'));
      } catch {
        this.reset();
      }
    },
  });

  const middleware: RequestHandler = (req, res, next) => {
    const end = duration.startTimer();
    res.on('finish', () => {
      // The matched route pattern, not the raw path: ids and tokens never become label values.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      end({ method: req.method, route });
    });
    next();
  };

  return { registry, middleware, transitionsStarted, workflowActions };
}

export type Metrics = ReturnType<typeof createMetrics>;
