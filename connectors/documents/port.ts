/** A document's listing entry (docs/design.md §9); `sha256` is over the stored Markdown bytes. */
export interface DocumentMeta {
  id: string;
  transitionId: string;
  step: string;
  title: string;
  sha256: string;
  previousSha256: string | null;
  createdAt: string;
}

export type DocumentFormat = 'md' | 'html';

/**
 * One run of a transition. A cancelled transition may be started again under the same id; each run
 * keeps its own documents and history archive, so a new run starts clean and an old one stays readable.
 */
export interface RunRef {
  transitionId: string;
  runId: string;
}

/** Where step documents live. Write-once: a document is never overwritten. */
export interface DocumentStore {
  /** Stores the document unless the run has one with this id; returns what is stored either way. */
  writeOnce(run: RunRef, meta: DocumentMeta, files: Record<DocumentFormat, string>): Promise<DocumentMeta>;
  /** The run's documents in chain order: each one's `previousSha256` is the one before it. */
  list(run: RunRef): Promise<DocumentMeta[]>;
  read(run: RunRef, documentId: string, format: DocumentFormat): Promise<Buffer | null>;
  /** Replaces an archive file of the run (the copy of its history that outlives the engine). */
  writeArchive(run: RunRef, name: string, data: Buffer): Promise<void>;
  readArchive(run: RunRef, name: string): Promise<Buffer | null>;
  /** The ids of the runs of a transition that stored anything, in no particular order. */
  runIds(transitionId: string): Promise<string[]>;
  /**
   * Stores a workflow input too large to travel in Temporal (a scope of thousands of assets) under
   * its SHA-256, before the run starts; storing the same bytes again does nothing.
   */
  writeInput(transitionId: string, sha256: string, data: Buffer): Promise<void>;
  /** The stored input, checked against its SHA-256; null when there is none. */
  readInput(transitionId: string, sha256: string): Promise<Buffer | null>;
}
