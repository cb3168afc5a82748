// Continue-as-new at a step boundary: once a run's history has grown by its budget, the next step
// starts in a new run of the same transition. The new run is the same transition to everyone: the
// chain's first run id names its documents, links, mail and archive (activities read it from a
// header, see workflows/interceptors.ts). It takes the runbook's memory back from a checkpoint,
// inline in its input when small, otherwise stored and read back in slices. Deterministic.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  makeContinueAsNewFunc,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import { factsSliceCharacters } from '../../domain/activity-contracts.js';
import {
  defaultHistoryBudget,
  failureTypes,
  resumingMessage,
  type Continuation,
  type RunbookCheckpoint,
  type RunbookInput,
  type StoredCheckpoint,
  transitionRunMemo,
  type TransitionRunMemo,
} from '../../domain/definitions.js';
import type { StartRequest } from '../../domain/schemas.js';
import { patches } from './patches.js';
import type { Runbook } from './runbook.js';

const checkpointMarker = { v: 1, event: 'checkpoint' } as const;

/**
 * True while a run that continued as new reads its stored checkpoint back: until then its state is
 * blank, so every query and Update is refused as `resuming` (workflows/interceptors.ts) instead of
 * being answered from it. Module state is per workflow run in the workflow sandbox.
 */
let resuming = false;

export function isResuming(): boolean {
  return resuming;
}

export function resumingFailure(): ApplicationFailure {
  return ApplicationFailure.create({
    type: failureTypes.resuming,
    message: resumingMessage,
    nonRetryable: true,
  });
}

/** The runbook's memory as the next run takes it back. */
function capture(runbook: Runbook): RunbookCheckpoint {
  return {
    v: 1,
    state: { ...runbook.state, tasks: runbook.tasks.carry() },
    approvers: runbook.transition.approvers,
    links: runbook.links.carry(),
    lastDocumentSha: runbook.documents.lastDocumentSha,
  };
}

function restore(runbook: Runbook, checkpoint: RunbookCheckpoint): void {
  const { tasks, ...state } = checkpoint.state;
  Object.assign(runbook.state, state);
  runbook.tasks.restore(tasks);
  runbook.transition.approvers.splice(0, runbook.transition.approvers.length, ...checkpoint.approvers);
  runbook.links.restore(checkpoint.links);
  runbook.documents.lastDocumentSha = checkpoint.lastDocumentSha;
}

export class Chain {
  /** Where the history stood when this run began its steps: the budget counts what it added since. */
  private base = { events: 0, bytes: 0 };
  /** The request as this run received it, its scope as given (not the stored scope read into it). */
  private readonly input: RunbookInput<StartRequest>;

  constructor(private readonly runbook: Runbook) {
    const { request } = runbook;
    this.input = { ...request };
    const carried = request.continued?.checkpoint;
    if (carried && 'inline' in carried) restore(runbook, carried.inline);
    resuming = !!carried && 'stored' in carried;
  }

  /** This run's position in the chain: 0 for the run the transition started with. */
  get part(): number {
    return this.runbook.request.continued?.part ?? 0;
  }

  /** The position of the step this run starts with. */
  get firstStep(): number {
    return this.runbook.request.continued?.nextStep ?? 0;
  }

  /** Takes back a stored checkpoint, before the first step this run runs. */
  async resume(): Promise<void> {
    const carried = this.runbook.request.continued?.checkpoint;
    if (carried && 'stored' in carried) restore(this.runbook, await this.read(carried.stored));
    resuming = false;
    const info = workflowInfo();
    this.base = { events: info.historyLength, bytes: info.historySize };
  }

  /** Whether this run has gathered its history budget, so the next step goes to a new run. */
  isLong(): boolean {
    const budget = this.runbook.request.historyBudget ?? defaultHistoryBudget;
    const info = workflowInfo();
    const long =
      info.historyLength - this.base.events >= budget.events ||
      info.historySize - this.base.bytes >= budget.bytes;
    return long && patched(patches.continueAsNew);
  }

  /**
   * Archives this run's history, saves the runbook's memory, and continues as new at `nextStep`.
   * A control or an opening taken while the checkpoint was being stored is not lost: the checkpoint
   * is stored again until nothing changed under it. Returns only when a cancel came meanwhile.
   */
  async continueAt(nextStep: number): Promise<void> {
    const { runbook } = this;
    await condition(allHandlersFinished);
    await runbook.documents.archive(this.part);
    let checkpoint: Continuation['checkpoint'];
    for (;;) {
      const json = JSON.stringify(capture(runbook));
      if (json.length <= factsSliceCharacters) {
        checkpoint = { inline: JSON.parse(json) as RunbookCheckpoint };
        break;
      }
      const stored = await this.store(json);
      await condition(allHandlersFinished);
      if (JSON.stringify(capture(runbook)) === json) {
        checkpoint = { stored };
        break;
      }
    }
    if (runbook.controls.cancelRequest) return;
    const next: RunbookInput<StartRequest> = {
      ...this.input,
      terms: runbook.request.terms,
      continued: { part: this.part + 1, nextStep, checkpoint },
    } as RunbookInput<StartRequest>;
    // The memo names the transition's run in listings, which otherwise show the workflow run's own.
    const transitionRun: TransitionRunMemo = {
      runId: workflowInfo().firstExecutionRunId,
      startedAt: runbook.state.dates.startedAt,
    };
    await makeContinueAsNewFunc({ memo: { [transitionRunMemo]: transitionRun } })(next);
  }

  private async store(json: string): Promise<StoredCheckpoint> {
    const stagedAs = `checkpoint-${this.part + 1}`;
    this.runbook.documents.factsInFlight.set(stagedAs, json);
    try {
      return await this.runbook.effects.storeCheckpoint({
        transitionId: this.runbook.state.id,
        stagedAs,
        slices: Math.ceil(json.length / factsSliceCharacters),
        audit: checkpointMarker,
      });
    } finally {
      this.runbook.documents.factsInFlight.delete(stagedAs);
    }
  }

  private async read(stored: StoredCheckpoint): Promise<RunbookCheckpoint> {
    let json = '';
    while (json.length < stored.characters) {
      const slice = await this.runbook.effects.readCheckpointSlice({
        sha256: stored.sha256,
        offset: json.length,
        audit: checkpointMarker,
      });
      if (!slice)
        throw ApplicationFailure.nonRetryable(
          `the checkpoint ${stored.sha256} ends after ${json.length} of ${stored.characters} characters`,
          'InvalidCheckpoint',
        );
      json += slice;
    }
    return JSON.parse(json) as RunbookCheckpoint;
  }
}
