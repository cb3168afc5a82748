// A step document as PDF says what its HTML says: user text exactly as typed, wrapped within the
// A4 page however long, with the hash and chain position in every footer. Read back with poppler
// (`pdftotext`, `pdftoppm`), as a reader of the PDF would see it.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { createFileLedger } from '../../activities/ledger.js';
import { documentPdf } from '../../audit/document-pdf.js';
import { projectRoot } from '../../config/config.js';
import { createFilesystemDocumentStore } from '../../connectors/documents/filesystem.js';
import type { DocumentMeta, DocumentStore } from '../../connectors/documents/port.js';
import type { WriteDocumentInput } from '../../domain/activity-contracts.js';
import type { TaskState } from '../../domain/definitions.js';
import { markdownToPdf } from '../../templates/markdown-pdf.js';
import { createTemplateRenderer } from '../../templates/render.js';

const execFileAsync = promisify(execFile);
const transitionId = 'offboarding-pdf';
const runId = '00000000-0000-4000-8000-0000000000bb';
const run = { transitionId, runId };
const at = '2026-11-23T15:04:05.000Z';
const share = String.raw`\\srv-01\imaging`;
const longEvidence =
  `Copied ${share} to the client bucket. ${'Checked every file against its manifest line. '.repeat(45)}`.slice(
    0,
    2000,
  );
// Beyond Latin-1: Cyrillic, Greek, typographic quotes and dashes, the euro sign (the embedded DejaVu draws them).
const beyondLatin1 = 'Проверено – “Ωk” €5';
// Chinese and Japanese: drawn in WenQuanYi Micro Hei (fonts-wqy-microhei), which DejaVu lacks.
const cjk = '已删除全部备份副本 バックアップを削除しました 확인 완료';
const unbroken = `sha256:${'0123456789abcdef'.repeat(12)}`;

function task(id: string, text: string): TaskState {
  return {
    id: `data-export.${id}`,
    step: 'data-export',
    assetId: id,
    title: `Export ${id}`,
    status: 'completed',
    createdAt: at,
    completedAt: at,
    completedBy: 'ops',
    evidence: { text },
  };
}

let dataDir: string;
let documents: DocumentStore;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'msp-document-pdf-'));
  documents = createFilesystemDocumentStore(path.join(dataDir, 'documents'));
  const activities = createActivities({
    documents,
    mailer: { send: () => Promise.reject(new Error('no mail here')) },
    templates: createTemplateRenderer(path.join(projectRoot, 'templates')),
    ledger: createFileLedger(path.join(dataDir, 'ledger')),
    publicUrl: 'http://runbooks.test',
    msp: { name: 'Test MSP' },
    linkSecrets: [{ id: 'l1', key: Buffer.alloc(32) }],
    listRuns: async () => [],
    historyBytes: () => Promise.reject(new Error('no history here')),
    documentFactsSlice: () => Promise.reject(new Error('no run here')),
  });
  const environment = new MockActivityEnvironment({ workflowExecution: { workflowId: transitionId, runId } });
  const client = { id: 'pdf', name: 'PDF Client', timezone: 'America/Chicago' };
  let previousSha256: string | null = null;
  for (const [documentId, tasks] of [
    ['01-data-export', [task('share', share), task('beyond', beyondLatin1), task('cjk', cjk)]],
    ['02-data-export', [task('long', longEvidence), task('unbroken', unbroken)]],
  ] as const) {
    const input: WriteDocumentInput = {
      transitionId,
      kind: 'offboarding',
      step: 'data-export',
      documentId,
      title: 'Data export',
      previousSha256,
      client,
      stepState: { key: 'data-export', status: 'completed', startedAt: at, finishedAt: at },
      createdAt: at,
      facts: {
        tasks: [...tasks],
        credentials: [],
        approvals: [],
        linkOpenings: [],
        linkOpeningsNotListed: 0,
        controls: [],
        dataSets: [],
      },
    };
    const written: DocumentMeta = await environment.run(activities.writeDocument, input);
    previousSha256 = written.sha256;
  }
});

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Writes the document's PDF to a file for poppler and answers its path. */
async function pdfFile(documentId: string): Promise<string> {
  const pdf = await documentPdf(documents, run, documentId);
  expect(pdf?.subarray(0, 5).toString()).toBe('%PDF-');
  const file = path.join(dataDir, `${documentId}.pdf`);
  await writeFile(file, pdf!);
  return file;
}

async function pdfText(file: string): Promise<string> {
  return (await execFileAsync('pdftotext', ['-enc', 'UTF-8', file, '-'], { maxBuffer: 16 << 20 })).stdout;
}

interface Box {
  page: { width: number; height: number };
  word: { xMin: number; yMin: number; xMax: number; yMax: number; text: string };
}

/** Every word of the text layer with the media box of its page (`pdftotext -bbox`). */
async function wordBoxes(file: string): Promise<Box[]> {
  const { stdout } = await execFileAsync('pdftotext', ['-bbox', file, '-'], { maxBuffer: 16 << 20 });
  const boxes: Box[] = [];
  let page = { width: 0, height: 0 };
  for (const line of stdout.split('\n')) {
    const pageMatch = /<page width="([\d.]+)" height="([\d.]+)"/.exec(line);
    if (pageMatch) page = { width: Number(pageMatch[1]), height: Number(pageMatch[2]) };
    const word = /<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)<\/word>/.exec(
      line,
    );
    if (word)
      boxes.push({
        page,
        word: {
          xMin: Number(word[1]),
          yMin: Number(word[2]),
          xMax: Number(word[3]),
          yMax: Number(word[4]),
          text: word[5] ?? '',
        },
      });
  }
  return boxes;
}

describe('a step document as PDF', () => {
  it('shows user text exactly as typed, as the HTML does, with its hash, chain position and metadata', async () => {
    const [first, second] = await documents.list(run);
    const html = (await documents.read(run, '01-data-export', 'html'))!.toString('utf8');
    expect(html).toContain(share);
    const file = await pdfFile('01-data-export');
    const text = await pdfText(file);
    expect(text).toContain(share);
    // A cell may wrap at a space.
    expect(text.replace(/\s+/g, ' ')).toContain(beyondLatin1);
    expect(text.replace(/\s+/g, ' ')).toContain(cjk);
    const { stdout: embedded } = await execFileAsync('pdffonts', [file]);
    expect(embedded).toMatch(/WenQuanYiMicroHei\s.*\byes\b/);
    expect(text).toContain(`SHA-256 ${first!.sha256}`);
    expect(text).toContain('Document 1 of the chain, previous SHA-256 none (first document).');
    expect(await pdfText(await pdfFile('02-data-export'))).toContain(
      `Document 2 of the chain, previous SHA-256 ${first!.sha256}.`,
    );
    expect(second!.previousSha256).toBe(first!.sha256);
    const { stdout: info } = await execFileAsync('pdfinfo', [file]);
    expect(info).toMatch(/Title:\s+Data export/);
    expect(info).toMatch(/Subject:\s+offboarding-pdf: step data-export, document 01-data-export/);
    expect(info).toMatch(/CreationDate:\s+Mon Nov 23 15:04:05 2026 UTC/);
    expect(info).toMatch(/Page size:\s+595\.2\d* x 841\.8\d* pts \(A4\)/);
  });

  it('wraps a 2,000-character evidence and a long unbroken string within the page', async () => {
    const file = await pdfFile('02-data-export');
    const text = (await pdfText(file)).replace(/\s+/g, ' ');
    expect(text).toContain(longEvidence.replace(/\s+/g, ' ').trim());
    expect((await pdfText(file)).replace(/\s+/g, '')).toContain(unbroken);
    const boxes = await wordBoxes(file);
    expect(boxes.length).toBeGreaterThan(300);
    const outside = boxes.filter(
      ({ page, word }) => word.xMin < 0 || word.yMin < 0 || word.xMax > page.width || word.yMax > page.height,
    );
    expect(outside).toEqual([]);
    // Nor into the side margins (2 cm, 56.7 pt): wrapped, not just kept on the paper.
    const inMargins = boxes.filter(({ page, word }) => word.xMin < 55 || word.xMax > page.width - 55);
    expect(inMargins).toEqual([]);
    await execFileAsync('pdftoppm', [
      '-r',
      '50',
      '-png',
      '-f',
      '1',
      '-l',
      '1',
      file,
      path.join(dataDir, 'page'),
    ]);
    const images = (await readdir(dataDir)).filter(
      (name) => name.startsWith('page') && name.endsWith('.png'),
    );
    expect(images).toHaveLength(1);
  });

  it('draws a table of hundreds of rows of long evidence (160,000 words measured) to its last row', async () => {
    const evidence = 'removed '.repeat(400).trim();
    const rows = Array.from({ length: 400 }, (_, i) => `| ws-${i} | ${evidence} |`);
    const markdown = ['| Device | Evidence |', '| --- | --- |', ...rows].join('\n');
    const pdf = await markdownToPdf([{ markdown, footer: () => ['Removal record', 'page'] }], {
      title: 'Removal record',
      subject: transitionId,
      createdAt: at,
    });
    const file = path.join(dataDir, 'many-rows.pdf');
    await writeFile(file, pdf);
    const text = await pdfText(file);
    expect(text).toContain('ws-0');
    expect(text).toContain('ws-399');
  });
});
