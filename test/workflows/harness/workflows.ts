// For tests only: runs steps of a runbook on the real engine, found by key in the real step lists,
// so a step's test (test/workflows/<kind>/<key>.test.ts) runs that step alone with its document.
// Bundled into the workflow sandbox like workflows/index.ts: no Node built-ins here.
import { ApplicationFailure } from '@temporalio/workflow';
import type { RunbookInput, TransitionState } from '../../../domain/definitions.js';
import type {
  OffboardingRequest,
  OffboardingStep,
  OnboardingRequest,
  OnboardingStep,
} from '../../../domain/schemas.js';
import { offboardingContext } from '../../../workflows/offboarding/context.js';
import { offboardingStepList } from '../../../workflows/offboarding/steps/index.js';
import { onboardingStepList } from '../../../workflows/onboarding/steps/index.js';
import { Runbook } from '../../../workflows/runbook/runbook.js';
import { runSteps, stepTitles, type AnyStep, type RunbookContext } from '../../../workflows/runbook/step.js';

export type StepHarnessInput =
  | {
      kind: 'offboarding';
      step: OffboardingStep;
      request: RunbookInput<OffboardingRequest>;
      /** Steps run first, in this order: only for a step whose facts are about the others (closure). */
      before?: OffboardingStep[];
    }
  | {
      kind: 'onboarding';
      step: OnboardingStep;
      request: RunbookInput<OnboardingRequest>;
      before?: OnboardingStep[];
    };

function definitionsOf<Context extends RunbookContext>(
  list: readonly AnyStep<Context>[],
  keys: string[],
): AnyStep<Context>[] {
  return keys.map((key) => {
    const definition = list.find((candidate) => candidate.key === key);
    if (!definition) throw ApplicationFailure.nonRetryable(`no step ${key} in this runbook`);
    return definition;
  });
}

/**
 * One step (after `before`, if given) on a runbook whose step list is just those steps: with no
 * `before`, the step's document is `01-<key>`.
 */
export async function stepHarnessWorkflow(input: StepHarnessInput): Promise<TransitionState> {
  const keys: string[] = [...(input.before ?? []), input.step];
  if (input.kind === 'offboarding') {
    const steps = definitionsOf(offboardingStepList, keys);
    const runbook = new Runbook(input.request, stepTitles(steps));
    const context = offboardingContext(runbook, input.request);
    return runbook.run(() => runSteps(steps, context));
  }
  const steps = definitionsOf(onboardingStepList, keys);
  const runbook = new Runbook(input.request, stepTitles(steps));
  const context = { runbook, request: input.request };
  return runbook.run(() => runSteps(steps, context));
}
