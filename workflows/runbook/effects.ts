// Every side effect of a runbook goes through here: retried until it works, and watched, so one that
// keeps failing (SMTP down, a full disk, a broken template) shows as a stalled step instead of a
// silent wait. Deterministic: the activities do the I/O.
import { condition, isCancellation, upsertSearchAttributes } from '@temporalio/workflow';
import { retryUpdate, searchAttributes, type StallState, type StepState } from '../../domain/definitions.js';
import { guardedActivities, sendStallNotice } from './activities.js';
import type { Controls } from './controls.js';
import { conflict, nowIso, type RunbookState } from './state.js';

const day = 24 * 3600_000;

/**
 * How long a stalled side effect waits before its next round of retries: 30 s, doubling to 10 min;
 * after a day stalled, 6 hours. Each round adds about 17 events to the history for good: at 10 min a
 * stall left for three weeks would pass Temporal's 51,200-event limit, which terminates the run; at
 * 6 hours a year adds about 25,000. An operator's `retry` starts the next round at once.
 */
function stallRetryDelayMs(round: number, stalledForMs: number): number {
  return stalledForMs >= day ? 6 * 3600_000 : Math.min(10 * 60_000, 30_000 * 2 ** (round - 1));
}

/** The message of an activity failure, from its cause (the activity's own error). */
function failureMessage(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const message =
    cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
  return message.slice(0, 500);
}

export type Effects = ReturnType<typeof guardedActivities>;

/** The runbook's activities, each call run until it works and watched for stalls. */
export function createEffects(runbook: RunbookState, controls: Controls): Effects {
  /** Which pending call owns the stall shown in the state, so only that call's success clears it. */
  let stallOwner = 0;
  let nextOwner = 1;
  let statusBeforeStall: StepState['status'] | null = null;
  /** Set by an operator's retry: the waiting round starts at once. */
  let retryRequested = false;

  controls.register(
    retryUpdate,
    () => {
      if (!runbook.state.stalled) throw conflict('nothing is stalled: there is nothing to retry');
    },
    (request) => {
      retryRequested = true;
      runbook.recordControl('retried', request, { activity: runbook.state.stalled!.activity });
    },
  );

  function markStalled(owner: number, activity: string, lastError: string, round: number): StallState {
    const { state } = runbook;
    if (stallOwner !== owner) {
      stallOwner = owner;
      const step = state.currentStep;
      if (step) {
        statusBeforeStall = runbook.stepState(step).status;
        runbook.setStepStatus(step, 'stalled');
      }
      state.stalled = { step, activity, lastError, since: nowIso(), rounds: 0, operatorsNotified: false };
      upsertSearchAttributes({ [searchAttributes.stalled.name]: [step ?? 'transition'] });
    }
    const stalled = state.stalled!;
    stalled.lastError = lastError;
    stalled.rounds = round;
    return stalled;
  }

  function clearStall(): void {
    const step = runbook.state.stalled?.step;
    if (step && statusBeforeStall && runbook.stepState(step).status === 'stalled')
      runbook.setStepStatus(step, statusBeforeStall);
    delete runbook.state.stalled;
    stallOwner = 0;
    statusBeforeStall = null;
    upsertSearchAttributes({ [searchAttributes.stalled.name]: [] });
  }

  /** Best effort: the fault may be the mail server itself; the state and /metrics show the stall anyway. */
  async function tellOperators(stalled: StallState): Promise<boolean> {
    const { state } = runbook;
    const where = stalled.step ? `the step ${runbook.titleOf(stalled.step)}` : 'the transition';
    try {
      await sendStallNotice({
        audit: { v: 1, event: 'notice' },
        idempotencyKey: `${state.id}:stalled:${stalled.activity}:${stalled.since}`,
        to: runbook.operatorEmails(),
        template: 'notice',
        data: {
          subject: `Stalled: ${where} for ${state.clientName}`,
          paragraphs: [
            `${where} of \`${state.id}\` is stalled since ${stalled.since}: \`${stalled.activity}\` keeps failing.`,
            `Last error: ${stalled.lastError}`,
            'The runbook tries again by itself, less and less often (up to every 10 minutes, and every 6 hours once the stall has lasted a day), and goes on as soon as it works. Fix the cause (mail server, disk, configuration), then retry at once with Retry now in the console or `POST /v1/transitions/<id>/retry`.',
          ],
          rows: [],
          transitionId: state.id,
          forOperators: true,
        },
      });
      return true;
    } catch (error) {
      if (isCancellation(error)) throw error;
      return false;
    }
  }

  /**
   * Runs a side effect until it works. When its own retries run out, the step shows as `stalled`
   * with the last error, the operators are told once, and the call is tried again after a growing
   * pause: the runbook goes on by itself once the fault clears.
   */
  async function watched<T>(activity: string, call: () => Promise<T>): Promise<T> {
    const owner = nextOwner++;
    for (let round = 1; ; round++) {
      try {
        const result = await call();
        if (stallOwner === owner) clearStall();
        return result;
      } catch (error) {
        if (isCancellation(error)) throw error;
        const stalled = markStalled(owner, activity, failureMessage(error), round);
        if (!stalled.operatorsNotified) stalled.operatorsNotified = await tellOperators(stalled);
        const stalledFor = Date.now() - Date.parse(stalled.since);
        await condition(() => retryRequested, stallRetryDelayMs(round, stalledFor));
        retryRequested = false;
      }
    }
  }

  return guardedActivities(watched);
}
