// Every step writes a document, once: its own facts and the record of the step (tasks, approvals,
// link openings, operator actions). Each names the SHA-256 of the one before it: a hash chain.
import { CancellationScope, patched, setHandler } from '@temporalio/workflow';
import { documentFactsQuery } from '../../domain/definitions.js';
import { factsSliceCharacters } from '../../domain/activity-contracts.js';
import type { DocumentFacts } from '../../domain/facts.js';
import type { StepKey } from '../../domain/schemas.js';
import type { Effects } from './effects.js';
import type { Links } from './links.js';
import { patches } from './patches.js';
import { nowIso, type RunbookState } from './state.js';

/** What a step document adds to its record: its step's facts, or how it ended (and the record it overrides). */
export type StepDocumentFacts = Partial<DocumentFacts>;

const archived = { v: 1, event: 'archive' } as const;

export class Documents {
  /** The SHA-256 of the last document written: the next one names it. */
  lastDocumentSha: string | null = null;
  /**
   * JSON too large for an activity's input, by id, while an activity reads it in slices (by query):
   * the facts of a document being written, or the checkpoint of a run continuing as new.
   */
  readonly factsInFlight = new Map<string, string>();

  constructor(
    private readonly runbook: RunbookState,
    private readonly effects: Effects,
    private readonly links: Links,
  ) {
    setHandler(documentFactsQuery, ({ documentId, slice }) => {
      const json = this.factsInFlight.get(documentId) ?? '';
      return json.slice(slice * factsSliceCharacters, (slice + 1) * factsSliceCharacters);
    });
  }

  /**
   * Writes a step's document once. `suffix` marks an interim document (a rejection); without it the
   * document is the step's own and its id goes into the step's state.
   */
  async write(
    key: StepKey,
    title: string,
    suffix: string | undefined,
    facts: StepDocumentFacts,
  ): Promise<void> {
    const { state } = this.runbook;
    const step = this.runbook.stepState(key);
    const index = state.steps.indexOf(step) + 1;
    const since = step.startedAt ?? state.dates.startedAt;
    const approvals = state.approvals.filter((approval) => approval.step === key);
    const requestIds = new Set([
      ...approvals.map((approval) => approval.requestId),
      ...state.credentials.filter((c) => c.step === key).map((c) => c.id),
    ]);
    const openings = this.links.openingsOf(requestIds);
    const documentId = `${String(index).padStart(2, '0')}-${key}${suffix ? `-${suffix}` : ''}`;
    const allFacts = {
      tasks: state.tasks.filter((task) => task.step === key),
      credentials: state.credentials.filter((credential) => credential.step === key),
      approvals,
      linkOpenings: openings.listed,
      linkOpeningsNotListed: openings.notListed,
      controls: state.controls.filter((control) => control.at >= since),
      ...facts,
    };
    // Only what the document shows travels: the step, not the whole state. The facts of a step of
    // thousands of assets are read by the activity in slices (documentFactsQuery), never sent whole.
    const json = JSON.stringify(allFacts);
    const inline = json.length <= factsSliceCharacters;
    if (!inline) this.factsInFlight.set(documentId, json);
    const document = await this.effects.writeDocument({
      audit: { v: 1, event: 'document', outcome: facts.outcome ?? 'completed' },
      transitionId: state.id,
      kind: state.kind,
      step: key,
      documentId,
      title,
      previousSha256: this.lastDocumentSha,
      client: { id: state.clientId, name: state.clientName, timezone: state.timezone },
      stepState: { ...step },
      createdAt: step.finishedAt ?? nowIso(),
      ...(inline ? { facts: allFacts } : { factsSlices: Math.ceil(json.length / factsSliceCharacters) }),
    });
    this.factsInFlight.delete(documentId);
    this.lastDocumentSha = document.sha256;
    if (!suffix) step.documentId = document.id;
    if (!patched(patches.archiveOnlyAtClose))
      await this.effects.archiveHistory({ transitionId: state.id, audit: archived });
  }

  /**
   * The last copy of the history into the document store, so the audit trail outlives the engine's
   * retention. Nothing the trail shows happens after it (the trail leaves out the close event).
   */
  async archiveAtClose(part: number): Promise<void> {
    await CancellationScope.nonCancellable(() => this.archive(part));
  }

  /** Copies this run's history into the document store: `part` is its position in the transition's chain of runs. */
  async archive(part: number): Promise<void> {
    await this.effects.archiveHistory({
      transitionId: this.runbook.id,
      audit: archived,
      ...(part ? { part } : {}),
    });
  }
}
