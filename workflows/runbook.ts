// Runbook machinery shared by the offboarding and onboarding workflows: the state every client
// reads, the operator controls, steps with their documents, and durable timers that re-arm when
// an operator extends a period. Deterministic: no I/O here, only activities do side effects.
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  cancelUpdate,
  failureTypes,
  legalHoldUpdate,
  pauseUpdate,
  releaseLegalHoldUpdate,
  resumeUpdate,
  searchAttributes,
  stateQuery,
  type ControlRecord,
  type ControlRequest,
  type RunbookInput,
  type StepState,
  type TransitionState,
  type TransitionStatus,
} from '../domain/definitions.js';
import type { UpdateDefinition } from '@temporalio/common';
import type { StartRequest, StepKey } from '../domain/schemas.js';
import { activities } from './activities.js';

export function nowIso(): string {
  // Date.now() is deterministic inside workflows: it is the time of the current workflow task.
  return new Date(Date.now()).toISOString();
}

export function conflict(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: failureTypes.conflict, message, nonRetryable: true });
}

export function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: failureTypes.invalid, message, nonRetryable: true });
}

/** What a step's body returns: the facts its document shows. */
export type StepFacts = Record<string, unknown>;

export interface TimerOptions {
  /** Called at each reminder instant that passes before the deadline; recomputed if the deadline moves. */
  reminders?: (deadline: string) => string[];
  onReminder?: (at: string, deadline: string) => Promise<void>;
}

export class Runbook {
  readonly state: TransitionState;
  private readonly work = new CancellationScope();
  private cancelRequest: ControlRequest | undefined;
  private lastDocumentSha: string | null = null;
  /** The timer being waited on; its deadline is a function so an extension shows at once. */
  private activeTimer: { name: string; deadline: () => string } | null = null;

  constructor(
    readonly request: RunbookInput<StartRequest>,
    stepKeys: readonly StepKey[],
  ) {
    const startedAt = nowIso();
    this.state = {
      id: workflowInfo().workflowId,
      kind: request.kind,
      clientId: request.client.id,
      clientName: request.client.name,
      timezone: request.client.timezone,
      status: 'running',
      startedBy: request.startedBy,
      currentStep: null,
      dates: { startedAt },
      paused: false,
      legalHold: false,
      steps: stepKeys.map((key) => ({ key, status: 'pending' })),
      tasks: [],
      approvals: [],
      nextTimer: null,
      controls: [],
    };
    this.registerControls();
  }

  /** Records an attributed control (who, why, when) in the state every client reads. */
  recordControl(
    action: ControlRecord['action'],
    request: ControlRequest,
    details?: Record<string, string>,
  ): void {
    this.state.controls.push({ action, actor: request.actor, reason: request.reason, at: nowIso(), details });
  }

  /** The state as clients see it, with the next timer computed from the current dates. */
  snapshot(): TransitionState {
    const timer = this.activeTimer;
    return { ...this.state, nextTimer: timer ? { name: timer.name, firesAt: timer.deadline() } : null };
  }

  private requireRunning(): void {
    if (this.state.status !== 'running' || this.cancelRequest) {
      throw conflict(`the transition is ${this.cancelRequest ? 'being cancelled' : this.state.status}`);
    }
  }

  /** Adds an attributed control handler; the validator rejects it (changing nothing) when it does not apply. */
  registerControl<Args extends ControlRequest>(
    update: UpdateDefinition<TransitionState, [Args]>,
    check: (request: Args) => void,
    apply: (request: Args) => void | Promise<void>,
  ): void {
    setHandler(
      update,
      async (request: Args) => {
        await apply(request);
        return this.snapshot();
      },
      {
        validator: (request: Args) => {
          if (!request.reason?.trim()) throw invalid('a reason is required');
          this.requireRunning();
          check(request);
        },
      },
    );
  }

  private registerControls(): void {
    setHandler(stateQuery, () => this.snapshot());
    this.registerControl(
      pauseUpdate,
      () => {
        if (this.state.paused) throw conflict('the transition is already paused');
      },
      (request) => {
        this.state.paused = true;
        this.recordControl('paused', request);
      },
    );
    this.registerControl(
      resumeUpdate,
      () => {
        if (!this.state.paused) throw conflict('the transition is not paused');
      },
      (request) => {
        this.state.paused = false;
        this.recordControl('resumed', request);
      },
    );
    this.registerControl(
      legalHoldUpdate,
      () => {
        if (this.state.legalHold) throw conflict('a legal hold is already in place');
      },
      (request) => {
        this.state.legalHold = true;
        this.recordControl('legal-hold-placed', request);
      },
    );
    this.registerControl(
      releaseLegalHoldUpdate,
      () => {
        if (!this.state.legalHold) throw conflict('no legal hold is in place');
      },
      (request) => {
        this.state.legalHold = false;
        this.recordControl('legal-hold-released', request);
      },
    );
    this.registerControl(
      cancelUpdate,
      () => undefined,
      (request) => {
        this.cancelRequest = request;
        this.recordControl('cancelled', request);
        this.work.cancel();
      },
    );
  }

  private publish(): void {
    upsertSearchAttributes({
      [searchAttributes.transitionStatus.name]: [this.state.status],
      [searchAttributes.currentStep.name]: this.state.currentStep ? [this.state.currentStep] : [],
    });
  }

  stepState(key: StepKey): StepState {
    const step = this.state.steps.find((candidate) => candidate.key === key);
    if (!step) throw ApplicationFailure.nonRetryable(`unknown step ${key}`);
    return step;
  }

  setStepStatus(key: StepKey, status: StepState['status']): void {
    this.stepState(key).status = status;
  }

  /** Runs one step: waits while paused, marks it running, runs its body, writes its document. */
  async step(key: StepKey, title: string, body: () => Promise<StepFacts>): Promise<void> {
    await condition(() => !this.state.paused);
    const step = this.stepState(key);
    step.status = 'running';
    step.startedAt = nowIso();
    this.state.currentStep = key;
    this.publish();
    let facts: StepFacts;
    try {
      facts = await body();
    } catch (error) {
      step.status = isCancellation(error) ? step.status : 'failed';
      step.finishedAt = nowIso();
      await CancellationScope.nonCancellable(() =>
        this.writeDocument(step, title, { outcome: isCancellation(error) ? 'cancelled' : 'failed' }),
      );
      throw error;
    }
    // A body may have settled the step itself (a rejection); otherwise it completed.
    if ((step.status as StepState['status']) === 'running') step.status = 'completed';
    step.finishedAt = nowIso();
    await this.writeDocument(step, title, facts);
  }

  /** Writes a step's document once; the chain links each document to the previous one's SHA-256. */
  private async writeDocument(step: StepState, title: string, facts: StepFacts): Promise<void> {
    const index = this.state.steps.indexOf(step) + 1;
    const document = await activities.writeDocument({
      transitionId: this.state.id,
      kind: this.state.kind,
      step: step.key,
      documentId: `${String(index).padStart(2, '0')}-${step.key}`,
      title,
      previousSha256: this.lastDocumentSha,
      state: this.state,
      facts,
    });
    this.lastDocumentSha = document.sha256;
    step.documentId = document.id;
  }

  /**
   * Durable timer until `deadline()`, re-armed whenever the deadline moves (an extension). Reminders
   * fire at the instants `options.reminders` gives for the current deadline, each at most once.
   */
  async waitUntil(name: string, deadline: () => string, options: TimerOptions = {}): Promise<void> {
    const sent = new Set<string>();
    this.activeTimer = { name, deadline };
    for (;;) {
      const target = deadline();
      const now = Date.now();
      const due = (options.reminders?.(target) ?? []).filter(
        (at) => !sent.has(at) && Date.parse(at) > now - 1,
      );
      const nextReminder = due.find((at) => Date.parse(at) > now);
      const overdueReminder = due.find((at) => Date.parse(at) <= now);
      if (overdueReminder && options.onReminder) {
        sent.add(overdueReminder);
        await options.onReminder(overdueReminder, target);
        continue;
      }
      const wakeAt = nextReminder && Date.parse(nextReminder) < Date.parse(target) ? nextReminder : target;
      const remaining = Date.parse(wakeAt) - now;
      if (remaining <= 0) break;
      const moved = await condition(() => deadline() !== target, remaining);
      if (!moved && wakeAt === target) break;
      if (!moved && nextReminder && options.onReminder) {
        sent.add(nextReminder);
        await options.onReminder(nextReminder, target);
      }
    }
    this.activeTimer = null;
  }

  /** Deletion never starts while a legal hold is on; the state shows what it waits for. */
  async whileLegalHold(): Promise<void> {
    if (!this.state.legalHold) return;
    await condition(() => !this.state.legalHold);
  }

  private finish(status: TransitionStatus, outcome: string): void {
    this.state.status = status;
    this.state.outcome = outcome;
    this.state.currentStep = null;
    this.activeTimer = null;
    this.state.dates.finishedAt = nowIso();
    this.publish();
  }

  /** Runs the steps inside a cancellable scope and settles the transition's final status. */
  async run(steps: () => Promise<void>): Promise<TransitionState> {
    this.publish();
    try {
      await this.work.run(steps);
      this.finish('completed', 'all steps completed');
    } catch (error) {
      if (this.cancelRequest && isCancellation(error)) {
        for (const step of this.state.steps) {
          if (step.status !== 'completed' && step.status !== 'rejected') step.status = 'skipped';
        }
        this.finish('cancelled', `cancelled by ${this.cancelRequest.actor}: ${this.cancelRequest.reason}`);
      } else {
        this.finish('failed', error instanceof Error ? error.message : String(error));
        await condition(allHandlersFinished);
        throw error;
      }
    }
    await condition(allHandlersFinished);
    return this.snapshot();
  }
}
