// What the audit endpoints serve: the trail from the live history (refreshing the archive) or, once
// Temporal has deleted the workflow, from the archived copy; the hash-chain check; the exports.
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { decodeHistory, encodeHistory, startOf } from './history-codec.js';
import { fetchHistoryInPages } from './history-pages.js';
import { stringify } from 'csv-stringify/sync';
import { strToU8, zip, type AsyncZippable } from 'fflate';
import type { DocumentStore, RunRef } from '../connectors/documents/port.js';
import { historyArchiveNameOf } from '../domain/activity-contracts.js';
import { dayInWords, timeAndUtc } from '../domain/timeline.js';
import { documentPdf, handoverPdf } from './document-pdf.js';
import { markdownToPdf, type PdfSection } from '../templates/markdown-pdf.js';
import type { TemplateRenderer } from '../templates/render.js';
import { continuedInto, isNotFound, UnknownTransitionError } from './runs.js';
import { buildTrail, type History, type TrailEntry, type TrailHeader } from './trail.js';

export interface ChainCheck {
  valid: boolean;
  documents: number;
  /** The first document whose bytes, hash or link do not hold, and why. */
  firstBroken: { documentId: string; problem: string } | null;
}

export interface AuditReport {
  transitionId: string;
  /** The run this trail is of: a transition started again after a cancellation has one per start. */
  runId: string;
  /** Where the trail came from: Temporal's history, or the archive once the history is gone. */
  source: 'temporal-history' | 'archive';
  header: TrailHeader;
  verification: ChainCheck;
  entries: TrailEntry[];
}

export const csvColumns = [
  'seq',
  'at',
  'atLocal',
  'actor',
  'action',
  'step',
  'details',
  'documentId',
  'sha256',
] as const satisfies readonly (keyof TrailEntry)[];

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** One run's history from Temporal (refreshing its archive), or from its archive once Temporal deleted it. */
async function loadRunHistory(
  client: Client,
  documents: DocumentStore,
  chain: RunRef,
  part: number,
  runId: string | null,
): Promise<{ history: History; source: AuditReport['source'] } | null> {
  const archiveName = historyArchiveNameOf(part);
  if (runId) {
    try {
      const history = await fetchHistoryInPages(client, { transitionId: chain.transitionId, runId });
      await documents.writeArchive(chain, archiveName, Buffer.from(encodeHistory(history)));
      return { history, source: 'temporal-history' };
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  const archived = await documents.readArchive(chain, archiveName);
  return archived ? { history: decodeHistory(archived), source: 'archive' } : null;
}

/**
 * The histories of a run and of each run it continued as new into, oldest first. A run Temporal
 * has deleted is read from its archive, and the archive of the part after it names the next run.
 */
async function loadHistories(
  client: Client,
  documents: DocumentStore,
  run: RunRef,
): Promise<{ histories: History[]; source: AuditReport['source'] }> {
  const histories: History[] = [];
  let source: AuditReport['source'] = 'temporal-history';
  let runId: string | null = run.runId;
  for (let part = 0; ; part++) {
    const loaded = await loadRunHistory(client, documents, run, part, runId);
    if (!loaded) break;
    histories.push(loaded.history);
    if (loaded.source === 'archive') source = 'archive';
    runId = continuedInto(loaded.history);
    if (!runId) {
      const next = await documents.readArchive(run, historyArchiveNameOf(part + 1));
      if (!next) break;
      runId = startOf(decodeHistory(next))?.runId ?? null;
    }
  }
  if (histories.length === 0) throw new UnknownTransitionError(`no run ${run.runId} of ${run.transitionId}`);
  return { histories, source };
}

/**
 * Checks every stored document against the chain: its bytes hash to its recorded SHA-256, which the
 * history also recorded when the document was written, and it names the previous document's hash.
 */
export async function verifyChain(
  documents: DocumentStore,
  run: RunRef,
  written: TrailEntry[],
): Promise<ChainCheck> {
  const metas = await documents.list(run);
  const recorded = new Map(
    written.filter((entry) => entry.documentId).map((entry) => [entry.documentId, entry.sha256]),
  );
  let previous: string | null = null;
  for (const meta of metas) {
    const bytes = await documents.read(run, meta.id, 'md');
    const problem = !bytes
      ? 'the stored Markdown is missing'
      : sha256(bytes) !== meta.sha256
        ? `its stored bytes hash to ${sha256(bytes)}, not the recorded ${meta.sha256}`
        : recorded.has(meta.id) && recorded.get(meta.id) !== meta.sha256
          ? `its recorded SHA-256 differs from the one in the history (${recorded.get(meta.id)})`
          : meta.previousSha256 !== previous
            ? `it names ${meta.previousSha256 ?? 'no'} previous document, but the one before it is ${previous ?? 'none'}`
            : null;
    if (problem)
      return { valid: false, documents: metas.length, firstBroken: { documentId: meta.id, problem } };
    previous = meta.sha256;
  }
  const missing = [...recorded.keys()].find((id) => !metas.some((meta) => meta.id === id));
  if (missing)
    return {
      valid: false,
      documents: metas.length,
      firstBroken: {
        documentId: missing,
        problem: 'the history records it, but it is not in the document store',
      },
    };
  return { valid: true, documents: metas.length, firstBroken: null };
}

export async function auditReport(
  client: Client,
  documents: DocumentStore,
  run: RunRef,
): Promise<AuditReport> {
  const { histories, source } = await loadHistories(client, documents, run);
  const { header, entries } = await buildTrail(
    run.transitionId,
    histories,
    client.options.loadedDataConverter,
  );
  return {
    transitionId: run.transitionId,
    runId: run.runId,
    source,
    header,
    verification: await verifyChain(documents, run, entries),
    entries,
  };
}

/** The trail's entries by day of the client's zone: a day in words once, then each entry's time and UTC. */
function entriesByDay({ entries, header }: AuditReport) {
  const days: { day: string; entries: (TrailEntry & { time: string; utc: string })[] }[] = [];
  for (const entry of entries) {
    const day = dayInWords(entry.at, header.timezone);
    if (days.at(-1)?.day !== day) days.push({ day, entries: [] });
    days.at(-1)!.entries.push({ ...entry, ...timeAndUtc(entry.at, header.timezone) });
  }
  return days;
}

export function trailCsv(report: AuditReport): string {
  return stringify(
    report.entries.map((entry) => csvColumns.map((column) => entry[column])),
    { header: true, columns: [...csvColumns] },
  );
}

export async function trailHtml(report: AuditReport, pages: TemplateRenderer): Promise<string> {
  const body = await pages.render('audit/trail.html.hbs', { ...report, days: entriesByDay(report) });
  return pages.htmlPage(`Audit trail: ${report.header.clientName} (${report.transitionId})`, body);
}

/** The trail's pages of a PDF: the same report its HTML shows, with the run and the chain's state in every footer. */
async function trailSection(report: AuditReport, pages: TemplateRenderer): Promise<PdfSection> {
  const { verification } = report;
  const chain = verification.valid
    ? `document chain verified (${verification.documents} documents)`
    : `document chain BROKEN at ${verification.firstBroken?.documentId ?? 'an unknown document'}`;
  return {
    markdown: await pages.render('audit/trail.md.hbs', { ...report, days: entriesByDay(report) }),
    footer: (page, count) => [
      `Audit trail of ${report.transitionId}, run ${report.runId}: ${chain}`,
      `Read from the ${report.source} when this file was made. Page ${page} of ${count}.`,
    ],
  };
}

/** The trail as a PDF, dated by its last entry. */
export async function trailPdf(report: AuditReport, pages: TemplateRenderer): Promise<Buffer> {
  return markdownToPdf([await trailSection(report, pages)], {
    title: `Audit trail: ${report.header.clientName}`,
    subject: `${report.transitionId}: audit trail of run ${report.runId}`,
    createdAt: report.entries.at(-1)?.at ?? report.header.startedAt,
  });
}

/**
 * The handover pack: every document (Markdown, HTML and PDF), the trail (JSON, HTML and PDF), all of
 * them in one PDF (`handover.pdf`), and a manifest of SHA-256s.
 */
export async function handoverPack(
  report: AuditReport,
  documents: DocumentStore,
  pages: TemplateRenderer,
): Promise<Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const run = { transitionId: report.transitionId, runId: report.runId };
  for (const meta of await documents.list(run)) {
    for (const format of ['md', 'html'] as const) {
      const bytes = await documents.read(run, meta.id, format);
      if (bytes) files[`documents/${meta.id}.${format}`] = new Uint8Array(bytes);
    }
    const pdf = await documentPdf(documents, run, meta.id);
    if (pdf) files[`documents/${meta.id}.pdf`] = new Uint8Array(pdf);
  }
  files['trail.json'] = strToU8(JSON.stringify(report, null, 2));
  files['trail.html'] = strToU8(await trailHtml(report, pages));
  files['trail.pdf'] = new Uint8Array(await trailPdf(report, pages));
  files['handover.pdf'] = new Uint8Array(
    await handoverPdf(
      documents,
      run,
      [await trailSection(report, pages)],
      `Handover pack: ${report.header.clientName}`,
    ),
  );
  const manifest = {
    transitionId: report.transitionId,
    runId: report.runId,
    source: report.source,
    chainValid: report.verification.valid,
    files: Object.entries(files).map(([path, bytes]) => ({
      path,
      bytes: bytes.length,
      sha256: sha256(bytes),
    })),
  };
  files['manifest.json'] = strToU8(JSON.stringify(manifest, null, 2));
  // Compressed off the event loop (fflate's worker), the PDFs stored as they are (already compressed);
  // a fixed timestamp makes the same content give the same zip.
  const entries = Object.fromEntries(
    Object.entries(files).map(([path, bytes]) => [path, [bytes, { level: path.endsWith('.pdf') ? 0 : 6 }]]),
  ) as AsyncZippable;
  return new Promise((resolve, reject) =>
    zip(entries, { mtime: new Date('2000-01-01T00:00:00Z') }, (error, zipped) =>
      error ? reject(error) : resolve(zipped),
    ),
  );
}
