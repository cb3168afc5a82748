// Start a transition from a form: "Show the plan" validates with the start route's schema and shows
// the dry run's plan; only then is there a start button, and it starts what the plan showed: a form
// changed after its plan gets the new plan first, not a start.
import { createHash } from 'node:crypto';
import type { Response, Router } from 'express';
import { z } from 'zod';
import { transitionKinds, type StartRequest, type TransitionKind } from '../../domain/schemas.js';
import { fromTemporal } from '../errors.js';
import { plan, type Plan } from '../operations.js';
import { startBody } from '../routes/transitions.js';
import { stepLabel } from '../waiting.js';
import { when } from './dates.js';
import { fieldErrors, single, type FieldErrors, type FormBody } from './forms.js';
import type { ConsoleContext } from './router.js';
import {
  approvalStepChoices,
  csvHeader,
  defaultApprovals,
  readStartForm,
  scopeAssets,
  startDefaults,
  startFields,
} from './start-form.js';

const kindOf = z.enum(transitionKinds).catch('offboarding');
const timezones = Intl.supportedValuesOf('timeZone');

const dateLabels: Record<string, string> = {
  noticeReceivedAt: 'Notice received',
  cutoverAt: 'Cutover',
  assistanceEndsAt: 'End of transition assistance',
  deletionDueAt: 'Deletion of retained data due',
};
const reminderLabels: Record<string, string> = {
  cutover: 'Reminder before the cutover',
  'retention-deletion': 'Reminder before the deletion',
};
/** Each field's label, for the field and for the list of problems at the top. */
const fieldLabels: Record<string, string> = {
  'client.id': 'Client id',
  'client.name': 'Client name',
  'client.timezone': 'Client time zone',
  requestedBy: 'Requested by (email)',
  'contacts.approvers': 'Client approvers',
  'contacts.operators': 'MSP operators',
  'terms.noticeReceivedAt': 'Notice received (in the client time zone)',
  'terms.noticePeriod': 'Notice period',
  'terms.transitionPeriod': 'Transition period',
  'terms.retentionPeriod': 'Retention period',
  'terms.regulated': 'Regulations (optional, comma-separated)',
  'terms.startAt': 'Start at (optional, in the client time zone)',
  'terms.rotationPeriod': 'Credential rotation period',
  'terms.approvalTimeout': 'Approval timeout',
  'terms.reminderInterval': 'Reminder interval',
  'terms.onTimeout': 'When an approval times out',
  'terms.approvalPolicy': 'Approval policy',
  approvalSteps: 'Steps that ask the client',
  'scope.devices': 'Devices',
  'scope.credentials': 'Credentials',
  'scope.dataSets': 'Data sets',
  'scope.backupJobs': 'Backup jobs',
};
const fieldId = (name: string) => `start-${name.replace(/\./g, '-')}`;

/** Binds a start to the plan shown: the same request, field for field. */
const planToken = (request: StartRequest) =>
  createHash('sha256').update(JSON.stringify(request)).digest('base64url');

function planView(request: StartRequest, shown: Plan) {
  const zone = request.client.timezone;
  return {
    steps: shown.steps.map((step) => ({ ...step, label: stepLabel(step.key) })),
    dates: Object.entries(shown.dates).map(([name, at]) => ({
      label: dateLabels[name] ?? name,
      at: when(at.utc, zone),
    })),
    reminders: shown.reminders.map((reminder) => ({
      label: reminderLabels[reminder.before] ?? reminder.before,
      at: when(reminder.utc, zone),
    })),
    scope: scopeAssets(request.kind).map((asset) => ({
      label: fieldLabels[`scope.${asset}`],
      count: (request.scope[asset] as unknown[]).length,
    })),
    approvers: request.contacts.approvers,
    operators: request.contacts.operators,
  };
}

export function startPage(router: Router, context: ConsoleContext) {
  const schema = startBody(context.minReminderInterval);

  async function show(
    res: Response,
    status: number,
    kind: TransitionKind,
    form: {
      values: Record<string, string>;
      approvalSteps: string[];
      errors?: FieldErrors;
      plan?: ReturnType<typeof planView>;
      planned?: string;
      notice?: string;
      problem?: string;
    },
  ) {
    const fields = Object.fromEntries(
      startFields(kind).map((name) => [
        name,
        {
          name,
          suffix: name.replace(/\./g, '-'),
          label: fieldLabels[name],
          value: form.values[name] ?? '',
          error: form.errors?.byField[name],
        },
      ]),
    );
    await context.console.send(res, status, {
      title: `Start an ${kind}`,
      template: 'start',
      nav: 'start',
      session: context.sessionOf(res),
      context: {
        kind,
        offboarding: kind === 'offboarding',
        kinds: transitionKinds.map((value) => ({ value, current: value === kind })),
        fields,
        approvalSteps: approvalStepChoices(kind, form.approvalSteps).map((step) => ({
          ...step,
          label: stepLabel(step.value),
        })),
        approvalStepsError: form.errors?.byField.approvalSteps,
        scope: scopeAssets(kind).map((asset) => ({
          ...fields[`scope.${asset}`],
          hint: `CSV with the header ${csvHeader(asset)}, or a JSON array${asset === 'devices' ? '; agents separated by spaces or ;' : ''}. Leave empty for none.`,
        })),
        timezones,
        errors: form.errors?.all.map((error) => ({
          ...error,
          href: error.field ? `#${fieldId(error.field)}` : null,
          label: error.field ? fieldLabels[error.field] : null,
        })),
        plan: form.plan,
        planned: form.planned,
        notice: form.notice,
        problem: form.problem,
      },
    });
  }

  router.get('/console/start', async (req, res) => {
    const kind = kindOf.parse(req.query.kind);
    await show(res, 200, kind, { values: startDefaults(kind), approvalSteps: defaultApprovals(kind) });
  });

  router.post('/console/start', async (req, res) => {
    const body = req.body as FormBody;
    const kind = kindOf.parse(single(body, 'kind'));
    const form = readStartForm(body, kind);
    const parsed = schema.safeParse(form.request);
    if (!parsed.success || Object.keys(form.unreadable).length) {
      const fields = startFields(kind);
      const errors = fieldErrors(parsed.error?.issues ?? [], fields);
      const unreadable = Object.entries(form.unreadable).map(([field, message]) => ({ field, message }));
      await show(res, 400, kind, {
        ...form,
        errors: {
          byField: { ...errors.byField, ...form.unreadable },
          // In the order of the form, as a person reads it.
          all: [
            ...unreadable,
            ...errors.all.filter((error) => error.field === null || !(error.field in form.unreadable)),
          ].sort((a, b) => fields.indexOf(a.field ?? '') - fields.indexOf(b.field ?? '')),
        },
      });
      return;
    }
    const request = parsed.data;
    const token = planToken(request);
    if (single(body, 'action') === 'start' && single(body, 'planned') === token) {
      try {
        const started = await context.operations.start(request, context.sessionOf(res).caller);
        // A fragment of its own: the form's #plan would otherwise carry over to the new page.
        res.redirect(303, `/console/transitions/${started.id}?done=started#main`);
      } catch (error) {
        const known = fromTemporal(error);
        if (known?.status !== 409) throw error;
        await show(res, 409, kind, {
          ...form,
          plan: planView(request, plan(request)),
          planned: token,
          problem: known.message,
        });
      }
      return;
    }
    await show(res, 200, kind, {
      ...form,
      plan: planView(request, plan(request)),
      planned: token,
      notice:
        single(body, 'action') === 'start'
          ? 'The form changed after its plan was shown: check this plan for what it says now, then start.'
          : undefined,
    });
  });
}
