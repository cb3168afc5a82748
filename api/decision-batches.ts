import { setImmediate } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import {
  decideBatchUpdate,
  decideUpdate,
  maxDecisionBatch,
  type DecideRequest,
  type DecideResult,
  type DecisionMarker,
  type DecisionOutcome,
} from '../domain/definitions.js';
import { fromWorkflowFailure } from './errors.js';
import type { ResolvedLink } from './link-pages.js';
import type { WorkflowGates } from './workflow-gates.js';

const decisionMarker: DecisionMarker = { v: 1, event: 'decision' };

interface Waiting {
  request: DecideRequest;
  resolve: (result: DecideResult) => void;
  reject: (error: unknown) => void;
}

interface RunDecisions {
  handle: WorkflowHandle;
  waiting: Waiting[];
}

/** A worker from before batches (a deploy under way) refuses the batch Update: it has no handler for it. */
function lacksBatchHandler(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof Error && /no registered handler for update/i.test(cause.message);
}

/** The refusal `decide` alone would have met, as the API answers it. */
function refusalOf(failure: { type: string; message: string }): Error {
  return fromWorkflowFailure(failure) ?? new Error(`decision refused: ${failure.message}`);
}

/**
 * The decisions of one API process on each run, sent together. Temporal runs about ten Updates of a
 * workflow at a time, each waiting for a workflow task: 50 approvers pressing at once, one Update
 * each, waited about five rounds of those. Here the decisions that come within one turn of the event
 * loop go as one batch Update (`decideBatchUpdate`), whose result answers each of them; those that
 * come while it is in flight go together in the next, so the presses take one or two rounds however
 * many there are.
 * A batch that fails fails each of its decisions with the same error (a 503 when Temporal is away).
 */
export class DecisionBatches {
  private readonly runs = new Map<string, RunDecisions>();

  constructor(
    private readonly updates: WorkflowGates,
    private readonly maxItems = maxDecisionBatch,
  ) {}

  /**
   * Decides through the run's next batch. Rejects with an HttpError when the workflow refuses the
   * decision, and with the Temporal client's error when the batch fails (see `fromTemporal`).
   */
  decide(
    link: Pick<ResolvedLink<unknown>, 'handle' | 'claims'>,
    request: DecideRequest,
  ): Promise<DecideResult> {
    // The run the link names: a batch goes to one run.
    const key = `${link.claims.transitionId}/${link.claims.runId ?? ''}`;
    const sending = this.runs.get(key);
    const run = sending ?? { handle: link.handle, waiting: [] };
    const result = new Promise<DecideResult>((resolve, reject) =>
      run.waiting.push({ request, resolve, reject }),
    );
    if (!sending) {
      this.runs.set(key, run);
      void this.sendUntilNoneWait(key, run);
    }
    return result;
  }

  /** Sends the run's waiting decisions a batch at a time until none wait, then forgets the run. */
  private async sendUntilNoneWait(key: string, run: RunDecisions): Promise<void> {
    // One turn of the event loop: presses whose page lookups came back together (see SharedCalls)
    // all go in the first batch instead of waiting behind a batch of one.
    await setImmediate();
    while (run.waiting.length > 0) await this.send(run.handle, run.waiting.splice(0, this.maxItems));
    this.runs.delete(key);
  }

  /** Sends one batch and settles each of its decisions; never throws. */
  private async send(handle: WorkflowHandle, batch: Waiting[]): Promise<void> {
    const items = batch.map(({ request }) => ({ ...request, audit: decisionMarker }));
    let outcomes: DecisionOutcome[];
    try {
      ({ outcomes } = await this.updates.run(handle.workflowId, () =>
        handle.executeUpdate(decideBatchUpdate, { args: [{ items }] }),
      ));
    } catch (error) {
      if (!lacksBatchHandler(error)) return batch.forEach((waiting) => waiting.reject(error));
      // Each decision goes alone, as before batches, until the new worker takes over.
      await Promise.all(
        batch.map(({ request, resolve, reject }) =>
          this.updates
            .run(handle.workflowId, () => handle.executeUpdate(decideUpdate, { args: [request] }))
            .then(resolve, reject),
        ),
      );
      return;
    }
    batch.forEach((waiting, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) waiting.resolve(outcome.result);
      else
        waiting.reject(outcome ? refusalOf(outcome.failure) : new Error('the batch gave no outcome for it'));
    });
  }
}
