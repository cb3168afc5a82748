import type { DocumentMeta, DocumentStore, RunRef } from '../connectors/documents/port.js';
import { markdownToPdf, type PdfSection } from '../templates/markdown-pdf.js';

/** A stored document's pages: its Markdown, with its hash and place in the chain in every footer. */
function documentSection(meta: DocumentMeta, position: number, markdown: string): PdfSection {
  const previous = meta.previousSha256 ?? 'none (first document)';
  return {
    markdown,
    footer: (page, pages) => [
      `SHA-256 ${meta.sha256}`,
      `Document ${position} of the chain, previous SHA-256 ${previous}. Page ${page} of ${pages}.`,
    ],
  };
}

/** Each document of the run's chain, in order, with its section of a PDF. */
async function documentSections(documents: DocumentStore, run: RunRef) {
  const chain = await documents.list(run);
  const sections: { meta: DocumentMeta; section: PdfSection }[] = [];
  for (const [index, meta] of chain.entries()) {
    const markdown = await documents.read(run, meta.id, 'md');
    if (markdown)
      sections.push({ meta, section: documentSection(meta, index + 1, markdown.toString('utf8')) });
  }
  return sections;
}

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
  const found = (await documentSections(documents, run)).find(({ meta }) => meta.id === documentId);
  if (!found) return null;
  const { meta, section } = found;
  return markdownToPdf([section], {
    title: meta.title,
    subject: `${meta.transitionId}: step ${meta.step}, document ${meta.id}`,
    createdAt: meta.createdAt,
  });
}

/**
 * The whole handover in one PDF: every document of the chain in order, each from a new page with
 * its own footer, then the `after` sections (the audit trail). Dated by its last document, so the
 * same run gives the same bytes.
 */
export async function handoverPdf(
  documents: DocumentStore,
  run: RunRef,
  after: PdfSection[],
  title: string,
): Promise<Buffer> {
  const sections = await documentSections(documents, run);
  return markdownToPdf([...sections.map(({ section }) => section), ...after], {
    title,
    subject: `${run.transitionId}: every document and the audit trail`,
    createdAt: sections.at(-1)?.meta.createdAt ?? new Date(0).toISOString(),
  });
}
