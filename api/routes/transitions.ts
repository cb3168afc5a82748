import { z } from 'zod';
import type { Config } from '../../config/config.js';
import {
  isoDuration,
  limits,
  multiLine,
  onceValid,
  startRequestSchema,
  transitionId,
  transitionKinds,
} from '../../domain/schemas.js';
import { durationMillis } from '../../domain/timeline.js';
import { plan, withWaiting, type ControlAction, type Operations } from '../operations.js';
import type { ApiRoutes } from '../routes.js';

export const transitionIdParams = z.object({
  id: z
    .string()
    .regex(
      /^(offboarding|onboarding)-[a-z0-9-]{1,64}$/,
      'expected a transition id such as offboarding-acme-dental',
    ),
});
export const reasonBody = z.object({
  reason: z.string().trim().min(1, 'a reason is required').max(limits.longText).check(multiLine),
});
export const extendBody = reasonBody.extend({
  period: z.enum(['noticePeriod', 'transitionPeriod', 'retentionPeriod']),
  by: isoDuration(),
});
export const transitionStatuses = ['running', 'completed', 'cancelled', 'failed'] as const;
export const listQuery = z.object({
  clientId: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/)
    .optional(),
  kind: z.enum(transitionKinds).optional(),
  status: z.enum(transitionStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const startQuery = z.object({ dryRun: z.enum(['true', 'false']).default('false') });

/** The start request with this deployment's floor under reminderInterval (MIN_REMINDER_INTERVAL): each reminder is an email. */
export function startBody(minReminderInterval: string) {
  return startRequestSchema.superRefine((request, ctx) => {
    if (durationMillis(request.terms.reminderInterval) < durationMillis(minReminderInterval))
      ctx.addIssue({
        code: 'custom',
        path: ['terms', 'reminderInterval'],
        message: `expected at least ${minReminderInterval} (MIN_REMINDER_INTERVAL)`,
      });
  }, onceValid);
}

export function transitionRoutes(routes: ApiRoutes, deps: { config: Config; operations: Operations }) {
  const { config, operations } = deps;
  const tag = 'transitions';

  routes.add(
    {
      method: 'post',
      path: '/v1/transitions',
      summary: 'Start an onboarding or offboarding; with ?dryRun=true, validate and return the plan only',
      roles: ['operator'],
      body: startBody(config.minReminderInterval),
      query: startQuery,
      status: 201,
      responses: {
        200: 'Dry-run plan',
        201: 'Started',
        400: 'Invalid body',
        401: 'No key',
        403: 'Not an operator',
        409: 'Already running',
      },
      tag,
    },
    async ({ body, query, caller, res }) => {
      if (query.dryRun === 'true') {
        await operations.checkConnections(body);
        const id = transitionId(body.kind, body.client.id);
        res.status(200).json({ dryRun: true, id, kind: body.kind, clientId: body.client.id, ...plan(body) });
        return undefined;
      }
      const started = await operations.start(body, caller);
      res.location(`/v1/transitions/${started.id}`);
      return started;
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/transitions',
      summary: 'List transitions (Temporal visibility), newest first',
      roles: ['operator', 'auditor'],
      query: listQuery,
      responses: { 200: 'Transitions', 400: 'Invalid filter', 401: 'No key' },
      tag,
    },
    async ({ query: { limit, ...filters } }) => {
      const { transitions } = await operations.list(filters, { offset: 0, limit });
      const running = transitions.filter((transition) => transition.status === 'running');
      const states = await operations.readStates(running);
      return {
        transitions: transitions.map((transition) =>
          withWaiting(transition, states[running.indexOf(transition)] ?? null),
        ),
      };
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/transitions/:id',
      summary: 'State of a transition: steps, dates, timers, pending approvals and tasks',
      roles: ['operator', 'auditor'],
      params: transitionIdParams,
      responses: { 200: 'State', 401: 'No key', 404: 'No such transition' },
      tag,
    },
    ({ params }) => operations.readState(params.id),
  );

  const controls: [ControlAction, z.ZodType<z.output<typeof reasonBody>>, string][] = [
    ['pause', reasonBody, 'Pause: no new step starts; timers keep running'],
    ['resume', reasonBody, 'Resume a paused transition'],
    ['cancel', reasonBody, 'Cancel; what was done is documented'],
    ['extend', extendBody, 'Extend a named period; later dates and timers move'],
    ['legal-hold', reasonBody, 'Place a legal hold: deletion does not start while it is on'],
    ['legal-hold/release', reasonBody, 'Release the legal hold'],
    ['retry', reasonBody, 'Retry a stalled side effect now instead of at its next round'],
  ];
  for (const [action, body, summaryText] of controls) {
    routes.add(
      {
        method: 'post',
        path: `/v1/transitions/:id/${action}`,
        summary: summaryText,
        roles: ['operator'],
        params: transitionIdParams,
        body,
        responses: {
          200: 'New state',
          400: 'Invalid body',
          401: 'No key',
          403: 'Not an operator',
          404: 'No such transition',
          409: 'Does not apply now',
        },
        tag,
      },
      ({ params, body: request, caller }) => operations.control(action, params.id, request, caller),
    );
  }
}
