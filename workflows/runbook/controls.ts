// The operators' controls: pause and resume, legal hold and release, cancel. Each is an Update whose
// validator refuses it (changing nothing) when it does not apply, and each is recorded with who did
// it and why. Other parts of the runbook add their own controls through `register`.
import { CancellationScope, setHandler } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import {
  cancelSignal,
  cancelUpdate,
  legalHoldUpdate,
  pauseUpdate,
  releaseLegalHoldUpdate,
  resumeUpdate,
  stateQuery,
  type ControlRequest,
  type TransitionState,
} from '../../domain/definitions.js';
import { conflict, invalid, type RunbookState } from './state.js';

export class Controls {
  /** The scope the steps run in: a cancel cancels it. */
  readonly work = new CancellationScope();
  cancelRequest: ControlRequest | undefined;

  constructor(private readonly runbook: RunbookState) {
    const { state } = runbook;
    setHandler(stateQuery, () => runbook.snapshot());
    this.register(
      pauseUpdate,
      () => {
        if (state.paused) throw conflict('the transition is already paused');
      },
      (request) => {
        state.paused = true;
        runbook.recordControl('paused', request);
      },
    );
    this.register(
      resumeUpdate,
      () => {
        if (!state.paused) throw conflict('the transition is not paused');
      },
      (request) => {
        state.paused = false;
        runbook.recordControl('resumed', request);
      },
    );
    this.register(
      legalHoldUpdate,
      () => {
        if (state.legalHold) throw conflict('a legal hold is already in place');
      },
      (request) => {
        state.legalHold = true;
        runbook.recordControl('legal-hold-placed', request);
      },
    );
    this.register(
      releaseLegalHoldUpdate,
      () => {
        if (!state.legalHold) throw conflict('no legal hold is in place');
      },
      (request) => {
        state.legalHold = false;
        runbook.recordControl('legal-hold-released', request);
      },
    );
    const cancel = (request: ControlRequest) => {
      this.cancelRequest = request;
      runbook.recordControl('cancelled', request);
      this.work.cancel();
    };
    this.register(cancelUpdate, () => undefined, cancel);
    setHandler(cancelSignal, (request) => {
      // A signal cannot be refused: one that does not apply changes nothing.
      if (request.reason?.trim() && runbook.state.status === 'running' && !this.cancelRequest)
        cancel(request);
    });
  }

  private requireRunning(): void {
    if (this.runbook.state.status !== 'running' || this.cancelRequest) {
      throw conflict(
        `the transition is ${this.cancelRequest ? 'being cancelled' : this.runbook.state.status}`,
      );
    }
  }

  /** Adds an attributed control handler; the validator rejects it (changing nothing) when it does not apply. */
  register<Args extends ControlRequest>(
    update: UpdateDefinition<TransitionState, [Args]>,
    check: (request: Args) => void,
    apply: (request: Args) => void | Promise<void>,
  ): void {
    setHandler(
      update,
      async (request: Args) => {
        await apply(request);
        return this.runbook.snapshot();
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
}
