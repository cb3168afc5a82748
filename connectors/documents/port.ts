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
  list(transitionId: string): Promise<DocumentMeta[]>;
  read(transitionId: string, documentId: string, format: DocumentFormat): Promise<Buffer | null>;
}
