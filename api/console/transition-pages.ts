// A transition's page, every form on it, and its documents and audit exports. Each form is checked
// with the schema of the JSON route that does the same and carried out by the same operation; a
// refused form is shown again with what was typed (never a secret) and why.
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { Caller } from '../auth.js';
import { knownHttpError, notFound } from '../errors.js';
import type { ControlAction } from '../operations.js';
import { sendPack, sendTrail } from '../routes/audit.js';
import { credentialParams, secretBody } from '../routes/credentials.js';
import { runQuery } from '../routes/runs.js';
import {
  completeTaskBody,
  sanitizationRecord,
  documentParams,
  documentQuery,
  documentsOf,
  reassignBody,
  sendDocument,
  stepParams,
  taskParams,
} from '../routes/steps.js';
import { extendBody, reasonBody, transitionIdParams } from '../routes/transitions.js';
import { instantIn } from './dates.js';
import { parseTaskCsv, taskBatchBody } from './task-batch.js';
import { liveSource } from './live.js';
import { fieldErrors, nested, single, type FormBody } from './forms.js';
import type { ConsoleContext } from './router.js';
import { transitionView, type FormFeedback } from './transition-view.js';

interface FormAction<P extends { id: string }, B> {
  path: string;
  params: z.ZodType<P>;
  body: z.ZodType<B>;
  /** The form's fields, named by their JSON path in the route's body. */
  fields: string[];
  /** Which form on the page this is, to show it again when refused. */
  form: (params: P) => string;
  /** What is typed is never shown again (a secret). */
  secret?: boolean;
  /** Values as the JSON route takes them, when a field is typed otherwise (a date in the client's zone). */
  read?: (values: Record<string, string>, body: FormBody) => Record<string, string>;
  run: (params: P, body: B, caller: Caller) => Promise<unknown>;
  done: keyof typeof doneMessages;
  anchor: string;
}

const doneMessages = {
  started: 'Started. The first steps run now; this page shows what it waits on.',
  'task-completed': 'Task completed: the evidence is recorded under your name.',
  'tasks-completed': 'Tasks completed: the evidence of each is recorded under your name.',
  'connector-retried': 'The connector runs again; this page shows its outcome once it is done.',
  'approval-requested': 'The approvers were asked again, each with a new link.',
  'approver-replaced': 'Approver replaced: the new approver has a link for every pending request.',
  'credential-stored': 'Stored in the vault. The secret is shown nowhere; its fingerprint identifies it.',
  'reveal-reissued': 'A fresh one-time reveal link was mailed; the earlier links stop working.',
  pause: 'Paused: no new step starts until it is resumed.',
  resume: 'Resumed.',
  cancel: 'Cancelled: what was done so far is documented.',
  extend: 'Extended: later dates and the running timer moved.',
  'legal-hold': 'Legal hold placed: deletion does not start while it is on.',
  'legal-hold/release': 'Legal hold released.',
  retry: 'Retrying now: the step goes on if it works, and shows the new error if not.',
} as const;

const doneQuery = z.object({ done: z.enum(Object.keys(doneMessages) as [keyof typeof doneMessages]) });
const reasonField = ['reason'];
const restoreDates = ['evidence.restore.startedAt', 'evidence.restore.endedAt'];
const sanitizationFields = Object.keys(sanitizationRecord.shape);

/** How many finished tasks the transition page lists; the API pages through all of them. */
const finishedTasksShown = 100;

export function transitionPages(router: Router, context: ConsoleContext) {
  const { operations } = context;

  /** The latest finished tasks are the ones an operator just did: one page from the end, newest first. */
  async function finishedTasks(id: string) {
    const page = await operations.tasks(id, undefined, {
      status: 'completed',
      latest: true,
      limit: finishedTasksShown,
    });
    return page.tasks;
  }

  async function showTransition(
    res: Response,
    id: string,
    status: number,
    extra: { done?: string; problem?: string; feedback?: FormFeedback } = {},
  ): Promise<void> {
    const session = context.sessionOf(res);
    const state = await operations.readState(id);
    const { documents } = await documentsOf(context, id, undefined);
    const view = transitionView(state, documents, {
      operator: session.caller.role === 'operator',
      feedback: extra.feedback,
      doneTasks: state.taskCounts ? await finishedTasks(id) : undefined,
    });
    await context.console.send(res, status, {
      title: `${state.clientName}: ${state.kind}`,
      template: 'transition',
      nav: 'transitions',
      session,
      live: await liveSource(context.temporal, { ids: [id], list: false }),
      context: {
        ...view,
        done: extra.done,
        problem: extra.problem,
        problemForm: extra.feedback?.form.replace(/[^a-z0-9-]/g, '-'),
      },
    });
  }

  const idOf = (req: Request) => {
    const params = transitionIdParams.safeParse(req.params);
    if (!params.success) throw notFound('no such transition');
    return params.data.id;
  };

  router.get('/console/transitions/:id', async (req, res) => {
    const done = doneQuery.safeParse(req.query);
    await showTransition(res, idOf(req), 200, {
      done: done.success ? doneMessages[done.data.done] : undefined,
    });
  });

  function formAction<P extends { id: string }, B>(action: FormAction<P, B>) {
    router.post(action.path, async (req, res) => {
      const params = action.params.safeParse(req.params);
      if (!params.success) throw notFound('no such transition, task, step or credential');
      const body = req.body as FormBody;
      const typed = Object.fromEntries(action.fields.map((name) => [name, single(body, name)]));
      const shown = action.secret ? {} : typed;
      const parsed = action.body.safeParse(nested(action.read ? action.read(typed, body) : typed));
      const form = action.form(params.data);
      if (!parsed.success) {
        const errors = fieldErrors(parsed.error.issues, action.fields);
        // What no field shows is said in the message itself.
        const unplaced = errors.all.filter((error) => error.field === null).map((error) => error.message);
        const problem = unplaced.length ? unplaced.join('; ') : 'some fields need another look.';
        await showTransition(res, params.data.id, 400, {
          problem,
          feedback: { form, problem, values: shown, errors: errors.byField },
        });
        return;
      }
      try {
        await action.run(params.data, parsed.data, context.sessionOf(res).caller);
      } catch (error) {
        const known = knownHttpError(error, req.method);
        if (!known || known.status === 503) throw known ?? error;
        await showTransition(res, params.data.id, known.status, {
          problem: known.message,
          feedback: { form, problem: known.message, values: shown, errors: {} },
        });
        return;
      }
      res.redirect(303, `/console/transitions/${params.data.id}?done=${action.done}#${action.anchor}`);
    });
  }

  formAction({
    path: '/console/transitions/:id/tasks/:taskId/complete',
    params: taskParams,
    body: completeTaskBody,
    fields: [
      'evidence.text',
      'evidence.url',
      ...sanitizationFields.map((field) => `evidence.sanitization.${field}`),
      'evidence.restore.startedAt',
      'evidence.restore.endedAt',
      'evidence.restore.integrityCheck',
      'evidence.restore.verifiedBy',
      'evidence.validation.verificationMethod',
      'evidence.validation.verificationResult',
    ],
    form: (params) => `task:${params.taskId}`,
    // The restore's start and end are typed in the client's zone.
    read: (values, body) => ({
      ...values,
      ...Object.fromEntries(
        restoreDates.map((name) => [name, instantIn(values[name]!, single(body, 'zone'))]),
      ),
    }),
    run: (params, body, caller) => operations.completeTask(params.id, params.taskId, body.evidence, caller),
    done: 'task-completed',
    anchor: 'tasks',
  });

  formAction({
    path: '/console/transitions/:id/tasks/:taskId/retry',
    params: taskParams,
    body: z.object({}),
    fields: [],
    form: (params) => `task:${params.taskId}`,
    run: (params, _body, caller) => operations.retryTask(params.id, params.taskId, caller),
    done: 'connector-retried',
    anchor: 'tasks',
  });

  formAction({
    path: '/console/transitions/:id/tasks/complete',
    params: transitionIdParams,
    body: taskBatchBody,
    fields: ['csv'],
    form: () => 'task-batch',
    run: (params, body, caller) => operations.completeTasks(params.id, parseTaskCsv(body.csv), caller),
    done: 'tasks-completed',
    anchor: 'tasks',
  });

  formAction({
    path: '/console/transitions/:id/steps/:step/request-approval',
    params: stepParams,
    body: reasonBody,
    fields: reasonField,
    form: (params) => `request-approval:${params.step}`,
    run: (params, body, caller) => operations.requestApproval(params.id, params.step, body.reason, caller),
    done: 'approval-requested',
    anchor: 'approvals',
  });

  formAction({
    path: '/console/transitions/:id/approvers',
    params: transitionIdParams,
    body: reassignBody,
    fields: ['from', 'to.name', 'to.email', 'reason'],
    form: () => 'approvers',
    run: (params, body, caller) => operations.reassignApprover(params.id, body, caller),
    done: 'approver-replaced',
    anchor: 'controls',
  });

  formAction({
    path: '/console/transitions/:id/credentials/:credentialId',
    params: credentialParams,
    body: secretBody,
    fields: ['secret'],
    secret: true,
    form: (params) => `credential:${params.credentialId}`,
    run: (params, body, caller) =>
      operations.supplyCredential(params.id, params.credentialId, body.secret, caller),
    done: 'credential-stored',
    anchor: 'credentials',
  });

  formAction({
    path: '/console/transitions/:id/credentials/:credentialId/reissue',
    params: credentialParams,
    body: reasonBody,
    fields: reasonField,
    form: (params) => `reissue:${params.credentialId}`,
    run: (params, body, caller) =>
      operations.reissueReveal(params.id, params.credentialId, body.reason, caller),
    done: 'reveal-reissued',
    anchor: 'credentials',
  });

  const controls: ControlAction[] = [
    'pause',
    'resume',
    'cancel',
    'extend',
    'legal-hold',
    'legal-hold/release',
    'retry',
  ];
  for (const action of controls) {
    formAction({
      path: `/console/transitions/:id/${action}`,
      params: transitionIdParams,
      body: action === 'extend' ? extendBody : reasonBody,
      fields: action === 'extend' ? ['period', 'by', 'reason'] : reasonField,
      form: () => action,
      run: (params, body, caller) => operations.control(action, params.id, body, caller),
      done: action,
      anchor: 'controls',
    });
  }

  router.get('/console/transitions/:id/documents/:docId', async (req, res) => {
    const params = documentParams.safeParse(req.params);
    const query = documentQuery.safeParse(req.query);
    if (!params.success || !query.success) throw notFound('no such document');
    await sendDocument(context, res, params.data.id, params.data.docId, query.data);
  });

  const trailQuery = runQuery.extend({ format: z.enum(['csv', 'html', 'pdf']).default('html') });
  router.get('/console/transitions/:id/audit', async (req, res) => {
    const query = trailQuery.safeParse(req.query);
    if (!query.success) throw notFound('no such export');
    await sendTrail(context, res, idOf(req), query.data);
  });

  router.get('/console/transitions/:id/pack', async (req, res) => {
    const query = runQuery.safeParse(req.query);
    if (!query.success) throw notFound('no such run');
    await sendPack(context, res, idOf(req), query.data.runId);
  });
}
