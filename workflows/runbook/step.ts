// What a step is: one file per step (`workflows/<kind>/steps/<key>.ts`) exports a StepDefinition
// with its key, title, what it asks the client to approve and when, which assets become manual
// tasks, and a `run` returning the typed facts its template (`templates/<kind>/<key>.md.hbs`) shows.
import type { TaskState } from '../../domain/definitions.js';
import type { StepFactsOf } from '../../domain/facts.js';
import type { StepKey } from '../../domain/schemas.js';
import type { Runbook } from './runbook.js';
import type { TaskSpec } from './tasks.js';

/** What every step is given: the runbook and the validated request, plus what its runbook adds. */
export interface RunbookContext {
  runbook: Runbook;
}

/** What a step's `run` may call: the parts of its own definition, bound to its key. */
export interface StepActions {
  /** Asks the client when the request lists this step among `approvalSteps`; otherwise returns at once. */
  approve(): Promise<void>;
  /** Opens a manual task per asset of the step's `tasks` and waits until each is completed. */
  completeTasks(): Promise<TaskState[]>;
}

export interface StepDefinition<K extends StepKey, Context extends RunbookContext> {
  key: K;
  title: string;
  /** The client's approval, when the request asks for it: when in the step it comes, and what it says (Markdown, user text escaped). */
  approval?: { when: string; summary: (context: Context) => string };
  /** The assets the step turns into manual tasks, one each. */
  tasks?: (context: Context) => TaskSpec[];
  run(context: Context, actions: StepActions): Promise<StepFactsOf<K>>;
}

/** Any step of a runbook whose context is `Context`. */
export type AnyStep<Context extends RunbookContext> = { [K in StepKey]: StepDefinition<K, Context> }[StepKey];

/**
 * Runs the steps in order, each with its document, from the one a continued run starts with.
 * Answers the position of the next step instead of running it once the run should continue as new.
 */
export async function runSteps<Context extends RunbookContext>(
  steps: readonly AnyStep<Context>[],
  context: Context,
): Promise<number | void> {
  const { chain } = context.runbook;
  for (let position = chain.firstStep; position < steps.length; position++) {
    if (position > chain.firstStep && chain.isLong()) return position;
    await runStep(steps[position]!, context);
  }
}

/** Runs one step as the engine does: its actions bound to its key, its facts into its document. */
export async function runStep<Context extends RunbookContext>(
  step: AnyStep<Context>,
  context: Context,
): Promise<void> {
  const { runbook } = context;
  const definition = step as StepDefinition<StepKey, Context>;
  const actions: StepActions = {
    async approve() {
      const asked = (runbook.request.approvalSteps as readonly string[]).includes(definition.key);
      if (asked && definition.approval)
        await runbook.approvals.ask(definition.key, definition.approval.summary(context));
    },
    completeTasks: () => runbook.tasks.complete(definition.key, definition.tasks?.(context) ?? []),
  };
  await runbook.step(definition.key, () => definition.run(context, actions));
}

/** The most common shape: the client approves, then a task per asset, then the facts. */
export function approvalThenTasks<Facts, Context extends RunbookContext>(
  facts: (context: Context) => Facts,
): (context: Context, actions: StepActions) => Promise<Facts> {
  return async (context, actions) => {
    await actions.approve();
    await actions.completeTasks();
    return facts(context);
  };
}

/** The other common shape: a task per asset, then the client confirms, then the facts. */
export function tasksThenApproval<Facts, Context extends RunbookContext>(
  facts: (context: Context) => Facts,
): (context: Context, actions: StepActions) => Promise<Facts> {
  return async (context, actions) => {
    await actions.completeTasks();
    await actions.approve();
    return facts(context);
  };
}

/** The step list of a runbook, as the engine and the dry-run plan read it. */
export function stepTitles<Context extends RunbookContext>(steps: readonly AnyStep<Context>[]) {
  return steps.map((step) => ({ key: step.key, title: step.title }));
}
