/** A document's listing entry (DESIGN §9); `sha256` is over the stored Markdown bytes. */
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

/** Where step documents live. Write-once: a document is never overwritten. */
export interface DocumentStore {
  /** Stores the document unless one with this id exists; returns what is stored either way. */
  writeOnce(meta: DocumentMeta, files: Record<DocumentFormat, string>): Promise<DocumentMeta>;
  /** The documents in chain order: each one's `previousSha256` is the one before it. */
  list(transitionId: string): Promise<DocumentMeta[]>;
  read(transitionId: string, documentId: string, format: DocumentFormat): Promise<Buffer | null>;
  /** Replaces an archive file of the transition (the copy of its history that outlives the engine). */
  writeArchive(transitionId: string, name: string, data: Buffer): Promise<void>;
  readArchive(transitionId: string, name: string): Promise<Buffer | null>;
}
