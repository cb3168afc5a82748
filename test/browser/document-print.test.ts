// A document's HTML printed from Chromium on A4 and on Letter: its tables wrap within the page, a long
// evidence and an unbroken string included, so nothing is cut at the paper's edge.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../config/config.js';
import { escapeMarkdown } from '../../domain/markdown.js';
import { createTemplateRenderer } from '../../templates/render.js';
import { launchBrowser, type BrowserSession } from '../support/browser.js';

const execFileAsync = promisify(execFile);
const longEvidence = 'Checked every file of the export against its manifest line. '.repeat(33).slice(0, 2000);
const unbroken = `sha256:${'0123456789abcdef'.repeat(12)}`;
const markdown = [
  '# Data export',
  '',
  '| Task | Asset | Status | Completed | By | Evidence |',
  '| --- | --- | --- | --- | --- | --- |',
  `| \`data-export.long\` | \`long\` | completed | Monday 23 November 2026, 09:04 (Chicago time), 2026-11-23 15:04:05 UTC | ops | ${escapeMarkdown(longEvidence)} |`,
  `| \`data-export.unbroken\` | \`unbroken\` | completed | — | ops | ${escapeMarkdown(unbroken)} |`,
  '',
].join('\n');

let session: BrowserSession;
let dir: string;

beforeAll(async () => {
  session = await launchBrowser();
  dir = await mkdtemp(path.join(tmpdir(), 'msp-document-print-'));
});

afterAll(async () => {
  await session?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The words of the PDF's text layer that reach into the side margins (`pdftotext -bbox`). */
async function wordsOutside(file: string, margin: number): Promise<{ words: number; outside: string[] }> {
  const { stdout } = await execFileAsync('pdftotext', ['-bbox', file, '-'], { maxBuffer: 16 << 20 });
  const width = Number(/<page width="([\d.]+)"/.exec(stdout)?.[1]);
  const words = [
    ...stdout.matchAll(/<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*)<\/word>/g),
  ];
  return {
    words: words.length,
    outside: words
      .filter((word) => Number(word[1]) < margin - 1 || Number(word[2]) > width - margin + 1)
      .map((word) => word[3] ?? ''),
  };
}

describe('a document printed', () => {
  it.each(['A4', 'Letter'] as const)('on %s keeps every table within the page', async (format) => {
    const html = await createTemplateRenderer(path.join(projectRoot, 'templates')).page(
      'Data export',
      markdown,
    );
    const context = await session.context('desktop');
    const page = await context.newPage();
    await page.setContent(html);
    const file = path.join(dir, `${format}.pdf`);
    await writeFile(file, await page.pdf({ format }));
    await context.close();
    // The stylesheet's side margin is 15 mm.
    const { words, outside } = await wordsOutside(file, (15 / 25.4) * 72);
    expect(words).toBeGreaterThan(300);
    expect(outside).toEqual([]);
    const text = (await execFileAsync('pdftotext', [file, '-'])).stdout.replace(/\s+/g, '');
    expect(text).toContain(unbroken);
  });
});
