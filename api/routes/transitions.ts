import { WorkflowIdReusePolicy, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { z } from 'zod';
import type { Config } from '../../config/config.js';
import {
  cancelUpdate,
  extendUpdate,
  legalHoldUpdate,
  pauseUpdate,
  releaseLegalHoldUpdate,
  resumeUpdate,
  searchAttributes,
  stateQuery,
  type TransitionState,
  type TransitionStatus,
} from '../../domain/definitions.js';
import {
  isoDuration,
  limits,
  multiLine,
  onceValid,
  startRequestSchema,
  transitionId,
  transitionKinds,
} from '../../domain/schemas.js';
import { durationMillis, offboardingDates, inZones, remindersBefore } from '../../domain/timeline.js';
import { stepCatalogue } from '../../workflows/catalogue.js';
import { fromTemporal, HttpError } from '../errors.js';
import type { Metrics } from '../metrics.js';
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
const extendBody = reasonBody.extend({
  period: z.enum(['noticePeriod', 'transitionPeriod', 'retentionPeriod']),
  by: isoDuration(),
});
const transitionStatuses = ['running', 'completed', 'cancelled', 'failed'] as const;
const listQuery = z.object({
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
function startBody(minReminderInterval: string) {
  return startRequestSchema.superRefine((request, ctx) => {
    if (durationMillis(request.terms.reminderInterval) < durationMillis(minReminderInterval))
      ctx.addIssue({
        code: 'custom',
        path: ['terms', 'reminderInterval'],
        message: `expected at least ${minReminderInterval} (MIN_REMINDER_INTERVAL)`,
      });
  }, onceValid);
}

/** Temporal's own status wins when the workflow ended without settling ours (terminated, timed out). */
function statusOf(info: Pick<WorkflowExecutionInfo, 'status' | 'typedSearchAttributes'>): TransitionStatus {
  switch (info.status.name) {
    case 'COMPLETED':
    case 'RUNNING':
    case 'CONTINUED_AS_NEW':
      return (
        (info.typedSearchAttributes.get(searchAttributes.transitionStatus) as TransitionStatus) ?? 'running'
      );
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'failed';
  }
}

function summary(info: WorkflowExecutionInfo) {
  return {
    id: info.workflowId,
    runId: info.runId,
    kind: info.typedSearchAttributes.get(searchAttributes.transitionKind) ?? null,
    clientId: info.typedSearchAttributes.get(searchAttributes.clientId) ?? null,
    status: statusOf(info),
    currentStep: info.typedSearchAttributes.get(searchAttributes.currentStep) ?? null,
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime?.toISOString() ?? null,
  };
}

/**
 * An Update to a closed workflow can come back as NotFound (the wording varies with timing): when the
 * transition exists but has finished, that is a conflict, not an unknown transition.
 */
export async function closedAsConflict(temporal: Client, id: string, error: unknown): Promise<unknown> {
  if (fromTemporal(error)?.status !== 404) return error;
  const description = await temporal.workflow
    .getHandle(id)
    .describe()
    .catch(() => null);
  if (!description || description.status.name === 'RUNNING') return error;
  return new HttpError(409, 'conflict', `the transition has already finished (${statusOf(description)})`);
}

/** The plan a dry run returns: steps in order, the dates and the reminders that fall on fixed dates. */
function plan(request: z.output<typeof startRequestSchema>) {
  const asked = (key: string) => (request.approvalSteps as string[]).includes(key);
  const steps = stepCatalogue[request.kind].map(({ key, title, approvalWhen }) => ({
    key,
    title,
    needsApproval: asked(key),
    ...(asked(key) && approvalWhen ? { approvalWhen } : {}),
  }));
  if (request.kind !== 'offboarding') return { steps, dates: {}, reminders: [] };
  const dates = offboardingDates(request.terms);
  const zone = request.client.timezone;
  const reminders = [
    ...remindersBefore(dates.noticeReceivedAt, dates.cutoverAt).map((at) => ({ before: 'cutover', at })),
    ...remindersBefore(dates.assistanceEndsAt, dates.deletionDueAt).map((at) => ({
      before: 'retention-deletion',
      at,
    })),
  ].map((reminder) => ({ ...reminder, ...inZones(reminder.at, zone) }));
  return {
    steps,
    dates: Object.fromEntries(Object.entries(dates).map(([name, at]) => [name, inZones(at, zone)])),
    reminders: reminders.map(({ before, utc, local }) => ({ before, utc, local })),
  };
}

export function transitionRoutes(
  routes: ApiRoutes,
  deps: { temporal: Client; config: Config; metrics: Metrics },
) {
  const { temporal, config, metrics } = deps;
  const tag = 'transitions';

  async function readState(id: string): Promise<TransitionState> {
    const handle = temporal.workflow.getHandle(id);
    const description = await handle.describe();
    // A completed run's result is its final state: no worker needs to replay it.
    if (description.status.name === 'COMPLETED') return (await handle.result()) as TransitionState;
    const state = await handle.query(stateQuery);
    return { ...state, status: statusOf(description) };
  }

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
      const id = transitionId(body.kind, body.client.id);
      if (query.dryRun === 'true') {
        res.status(200).json({ dryRun: true, id, kind: body.kind, clientId: body.client.id, ...plan(body) });
        return undefined;
      }
      await temporal.workflow.start(`${body.kind}Workflow`, {
        taskQueue: config.temporal.taskQueue,
        workflowId: id,
        args: [{ ...body, startedBy: caller.name }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: new TypedSearchAttributes([
          { key: searchAttributes.clientId, value: body.client.id },
          { key: searchAttributes.transitionKind, value: body.kind },
          { key: searchAttributes.transitionStatus, value: 'running' },
        ]),
      });
      metrics.transitionsStarted.inc({ kind: body.kind });
      res.location(`/v1/transitions/${id}`);
      return { id, kind: body.kind, clientId: body.client.id, status: 'running' };
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
    async ({ query }) => {
      const filters = [`${searchAttributes.transitionKind.name} IS NOT NULL`];
      if (query.clientId) filters.push(`${searchAttributes.clientId.name} = '${query.clientId}'`);
      if (query.kind) filters.push(`${searchAttributes.transitionKind.name} = '${query.kind}'`);
      if (query.status) filters.push(`${searchAttributes.transitionStatus.name} = '${query.status}'`);
      const transitions = [];
      for await (const info of temporal.workflow.list({ query: filters.join(' AND ') })) {
        transitions.push(summary(info));
        if (transitions.length >= query.limit) break;
      }
      return { transitions };
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
    ({ params }) => readState(params.id),
  );

  const controls = [
    ['pause', pauseUpdate, reasonBody, 'Pause: no new step starts; timers keep running'],
    ['resume', resumeUpdate, reasonBody, 'Resume a paused transition'],
    ['cancel', cancelUpdate, reasonBody, 'Cancel; what was done is documented'],
    ['extend', extendUpdate, extendBody, 'Extend a named period; later dates and timers move'],
    ['legal-hold', legalHoldUpdate, reasonBody, 'Place a legal hold: deletion does not start while it is on'],
    ['legal-hold/release', releaseLegalHoldUpdate, reasonBody, 'Release the legal hold'],
  ] as const;
  for (const [action, update, body, summaryText] of controls) {
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
      async ({ params, body: request, caller }) => {
        try {
          const state = await temporal.workflow
            .getHandle(params.id)
            .executeUpdate(update as typeof pauseUpdate, { args: [{ ...request, actor: caller.name }] });
          metrics.workflowActions.inc({ action, outcome: 'accepted' });
          return state;
        } catch (error) {
          metrics.workflowActions.inc({ action, outcome: 'refused' });
          throw await closedAsConflict(temporal, params.id, error);
        }
      },
    );
  }
}
