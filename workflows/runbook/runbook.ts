// The runbook engine both workflows run on: it puts the parts together (state, controls, effects,
// links, approvals, tasks, credentials, documents, timers), runs an ordered list of steps each with
// its document, and settles the transition's final status. Deterministic: no I/O here.
import {
  allHandlersFinished,
  CancellationScope,
  CancelledFailure,
  condition,
  ContinueAsNew,
  isCancellation,
} from '@temporalio/workflow';
import type { RunbookInput, TransitionState, TransitionStatus } from '../../domain/definitions.js';
import type { StartRequest, StepKey } from '../../domain/schemas.js';
import { Approvals } from './approvals.js';
import { Approvers } from './approvers.js';
import { Chain } from './chain.js';
import { Controls } from './controls.js';
import { CredentialHandover } from './credential-handover.js';
import { CredentialIntake } from './credential-intake.js';
import { CredentialLinks } from './credentials.js';
import { Documents, type StepDocumentFacts } from './documents.js';
import { createEffects, type Effects } from './effects.js';
import { Links } from './links.js';
import { Notices } from './notices.js';
import { loadScope } from './scope.js';
import { nowIso, RunbookState } from './state.js';
import { Tasks } from './tasks.js';
import { Timers } from './timers.js';

export class Runbook {
  readonly transition: RunbookState;
  readonly controls: Controls;
  readonly effects: Effects;
  readonly notices: Notices;
  readonly links: Links;
  readonly documents: Documents;
  readonly approvals: Approvals;
  readonly approvers: Approvers;
  readonly tasks: Tasks;
  readonly timers: Timers;
  readonly intake: CredentialIntake;
  readonly handover: CredentialHandover;
  readonly chain: Chain;

  /** Builds the parts and registers every handler, before the workflow's first await. */
  constructor(
    readonly request: RunbookInput<StartRequest>,
    steps: readonly { key: StepKey; title: string }[],
  ) {
    this.transition = new RunbookState(request, steps);
    this.controls = new Controls(this.transition);
    this.effects = createEffects(this.transition, this.controls);
    this.notices = new Notices(this.transition, this.effects);
    this.links = new Links(this.transition);
    this.documents = new Documents(this.transition, this.effects, this.links);
    this.tasks = new Tasks(this.transition, this.effects);
    this.approvals = new Approvals(this.transition, this.effects, this.links, this.notices, this.documents);
    this.approvers = new Approvers(this.transition, this.approvals, this.controls);
    const credentialLinks = new CredentialLinks(this.transition, this.effects, this.links, this.approvers);
    this.intake = new CredentialIntake(this.transition, credentialLinks, this.notices);
    this.handover = new CredentialHandover(this.transition, credentialLinks, this.notices, this.controls);
    this.timers = new Timers(this.transition);
    this.chain = new Chain(this);
  }

  get state(): TransitionState {
    return this.transition.state;
  }

  /** Runs one step: waits while paused, marks it running, runs its body, writes its document. */
  async step(key: StepKey, body: () => Promise<StepDocumentFacts>): Promise<void> {
    const title = this.transition.titleOf(key);
    await condition(() => !this.state.paused);
    const step = this.transition.stepState(key);
    step.status = 'running';
    step.startedAt = nowIso();
    this.state.currentStep = key;
    this.transition.publish();
    let facts: StepDocumentFacts;
    try {
      facts = await body();
    } catch (error) {
      step.status = isCancellation(error) ? 'skipped' : 'failed';
      step.finishedAt = nowIso();
      await CancellationScope.nonCancellable(() =>
        this.documents.write(key, title, undefined, {
          outcome: isCancellation(error) ? 'cancelled' : 'failed',
        }),
      );
      throw error;
    }
    step.status = 'completed';
    step.finishedAt = nowIso();
    await this.documents.write(key, title, undefined, facts);
  }

  private finish(status: TransitionStatus, outcome: string): void {
    this.state.status = status;
    this.state.outcome = outcome;
    this.state.currentStep = null;
    this.transition.activeTimer = null;
    this.state.dates.finishedAt = nowIso();
    this.transition.publish();
  }

  /**
   * Runs the steps inside a cancellable scope and settles the transition's final status. `steps`
   * answers the position of the step to continue at when the run should continue as new first.
   */
  async run(steps: () => Promise<number | void>): Promise<TransitionState> {
    this.transition.publish();
    const cancelled = () => this.controls.cancelRequest;
    try {
      // Only a run with a stored scope reads it: the runs before it issue exactly what they did.
      const scopeRef = this.request.scopeRef;
      const continueAt = await this.controls.work.run(
        scopeRef || this.request.continued
          ? async () => {
              if (scopeRef) await loadScope(this.request, scopeRef, this.effects);
              await this.chain.resume();
              return steps();
            }
          : steps,
      );
      if (typeof continueAt === 'number') {
        await this.chain.continueAt(continueAt);
        // Only a cancel taken while the run was about to continue comes back here.
        throw new CancelledFailure('cancelled while continuing as new');
      }
      this.finish('completed', 'all steps completed');
    } catch (error) {
      if (error instanceof ContinueAsNew) throw error;
      const cancel = cancelled();
      if (cancel && isCancellation(error)) {
        for (const step of this.state.steps) {
          if (step.status !== 'completed') step.status = 'skipped';
        }
        this.finish('cancelled', `cancelled by ${cancel.actor}: ${cancel.reason}`);
      } else {
        this.finish('failed', error instanceof Error ? error.message : String(error));
        await condition(allHandlersFinished);
        await this.documents.archiveAtClose(this.chain.part);
        throw error;
      }
    }
    await condition(allHandlersFinished);
    await this.documents.archiveAtClose(this.chain.part);
    return this.transition.snapshot();
  }
}
