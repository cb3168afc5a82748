import type { DocumentStore, RunRef } from '../connectors/documents/port.js';
import { markdownToPdf } from '../templates/markdown-pdf.js';

/**
 * A stored document as a PDF, rendered on read from its stored Markdown: the chain hashes the
 * Markdown alone, so the PDF adds no bytes to keep and no step to the workflows, and a document
 * written before PDFs existed has one too. Null when the run has no such document.
 */
export async function documentPdf(
  documents: DocumentStore,
  run: RunRef,
  documentId: string,
): Promise<Buffer | null> {
  const chain = await documents.list(run);
  const position = chain.findIndex((meta) => meta.id === documentId);
  const meta = chain[position];
  const markdown = meta ? await documents.read(run, documentId, 'md') : null;
  if (!meta || !markdown) return null;
  return markdownToPdf(markdown.toString('utf8'), {
    title: meta.title,
    subject: `${meta.transitionId}: step ${meta.step}, document ${meta.id}`,
    createdAt: meta.createdAt,
    sha256: meta.sha256,
    previousSha256: meta.previousSha256,
    chainPosition: position + 1,
  });
}
