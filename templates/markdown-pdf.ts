// Step documents (and the audit trail) as a PDF, drawn from the same Markdown their HTML comes from,
// so both say the same words. It draws what the templates write (headings, paragraphs, bullet
// lists, tables, code spans, bold) and no more; anything else is drawn as its text, never dropped.
import { setImmediate } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import type { Token, Tokens } from 'marked';
import { markdownLineBreak } from '../domain/markdown.js';
import { markdownParser } from './render.js';

/** The PDF's metadata; its creation date is the content's, so the same content gives the same bytes. */
export interface PdfInfo {
  title: string;
  subject: string;
  createdAt: string;
}

/** Markdown starting on a page of its own, with what every one of its pages says in its footer. */
export interface PdfSection {
  markdown: string;
  /** The footer's two lines on the section's `page`-th page (1-based) of `pages`. */
  footer: (page: number, pages: number) => [string, string];
}

type FontRole = 'body' | 'bold' | 'italic' | 'code';
interface Run {
  text: string;
  font: FontRole;
}

/**
 * Debian's DejaVu (fonts-dejavu-core), embedded when installed: it draws Latin, Greek, Cyrillic and
 * most symbols as typed. Without it, the standard PDF fonts, which need nothing on disk but cover
 * Latin-1 only.
 */
const dejaVuDir = '/usr/share/fonts/truetype/dejavu';
const dejaVu: Record<FontRole, string> = {
  body: path.join(dejaVuDir, 'DejaVuSans.ttf'),
  bold: path.join(dejaVuDir, 'DejaVuSans-Bold.ttf'),
  italic: path.join(dejaVuDir, 'DejaVuSans-Oblique.ttf'),
  code: path.join(dejaVuDir, 'DejaVuSansMono.ttf'),
};
const standardFonts: Record<FontRole, string> = {
  body: 'Helvetica',
  bold: 'Helvetica-Bold',
  italic: 'Helvetica-Oblique',
  code: 'Courier',
};
const fonts = Object.values(dejaVu).every((file) => existsSync(file)) ? dejaVu : standardFonts;
/**
 * WenQuanYi Micro Hei (fonts-wqy-microhei), embedded when installed, for the Chinese, Japanese and
 * Korean text DejaVu has no glyph for: a run or cell holding any such character is drawn in it whole
 * (it has Latin too, and a mono face for code), so a name typed in Chinese reads as typed.
 */
const cjkCollection = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
const cjkFaces = existsSync(cjkCollection)
  ? { proportional: 'WenQuanYiMicroHei', mono: 'WenQuanYiMicroHeiMono' }
  : null;
/** Hangul, CJK symbols and punctuation, kana, Han (and its extensions), compatibility and full-width forms. */
const cjkText =
  /[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u{20000}-\u{3134f}]/u;

/** Sets the font of `role` for `text`: the CJK font when the text needs it and it is installed. */
function useFont(doc: PDFKit.PDFDocument, role: FontRole, text: string): PDFKit.PDFDocument {
  if (cjkFaces && cjkText.test(text))
    return doc.font(cjkCollection, role === 'code' ? cjkFaces.mono : cjkFaces.proportional);
  return doc.font(fonts[role]);
}
const bodySize = 10;
const tableSize = 8;
const cellPadding = 3;
const headingSizes: Record<number, number> = { 1: 18, 2: 14, 3: 12 };
/** How many lines of what follows a heading must fit on its page. */
const keptLines = 4;
// A4 with 2 cm side margins; the bottom margin leaves room for the two footer lines.
const margins = { top: 56, left: 56, right: 56, bottom: 72 };

/** The runs of inline tokens, in reading order, each in the font its Markdown asks for. */
function inlineRuns(tokens: Token[] | undefined, font: FontRole = 'body'): Run[] {
  const runs: Run[] = [];
  for (const token of tokens ?? []) {
    switch (token.type) {
      case 'strong':
        runs.push(...inlineRuns((token as Tokens.Strong).tokens, 'bold'));
        break;
      case 'em':
        runs.push(...inlineRuns((token as Tokens.Em).tokens, 'italic'));
        break;
      case 'codespan':
        runs.push({ text: (token as Tokens.Codespan).text, font: 'code' });
        break;
      case 'br':
        runs.push({ text: '\n', font });
        break;
      case 'html':
        // Escaped user text writes its line breaks as <br>; any other HTML is shown as text, as in the HTML.
        runs.push({ text: token.raw === markdownLineBreak ? '\n' : token.raw, font });
        break;
      default: {
        const nested = (token as { tokens?: Token[] }).tokens;
        if (nested?.length) runs.push(...inlineRuns(nested, font));
        else runs.push({ text: (token as { text?: string }).text ?? token.raw, font });
      }
    }
  }
  return runs;
}

const plainText = (runs: Run[]) => runs.map((run) => run.text).join('');

/**
 * The runs line by line: PDFKit drops a line break inside continued text, so each line of a
 * paragraph (escaped user text writes its newlines as breaks) is drawn as text of its own.
 */
function lines(runs: Run[]): Run[][] {
  const result: Run[][] = [[]];
  for (const run of runs) {
    run.text.split('\n').forEach((text, index) => {
      if (index > 0) result.push([]);
      if (text) result.at(-1)?.push({ text, font: run.font });
    });
  }
  return result;
}

/**
 * The width of `text` on one line from the widths of its chunks (each word with the space after it),
 * as PDFKit itself sums it: so a line's width grows by its next word alone, and a chunk seen before
 * costs nothing. Measuring every line anew made a table of thousands of long cells quadratic.
 */
function chunkedWidth(text: string, chunkWidth: (chunk: string) => number): number {
  let width = 0;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (character === ' ' || character === '\t') {
      width += chunkWidth(text.slice(start, index + 1));
      start = index + 1;
    }
  }
  return start < text.length ? width + chunkWidth(text.slice(start)) : width;
}

/**
 * The lines of `text` within `width`, broken at spaces only, and a word longer than a line at the
 * last character that fits. PDFKit's own wrapping also breaks after `-`, `/` and `\`, which would
 * split a path or hostname (`\\srv-01\imaging`) that fits on the next line.
 */
function wrap(text: string, width: number, chunkWidth: (chunk: string) => number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    let lineWidth = 0;
    let lastWord = '';
    for (const word of paragraph.split(/ +/)) {
      const joinedWidth = line
        ? lineWidth - chunkWidth(lastWord) + chunkWidth(`${lastWord} `) + chunkWidth(word)
        : chunkWidth(word);
      if (joinedWidth <= width) {
        line = line ? `${line} ${word}` : word;
        lineWidth = joinedWidth;
        lastWord = word;
        continue;
      }
      if (line) lines.push(line);
      let rest = word;
      while (rest.length > 1 && chunkWidth(rest) > width) {
        let fits = 1;
        while (fits < rest.length - 1 && chunkWidth(rest.slice(0, fits + 1)) <= width) fits++;
        lines.push(rest.slice(0, fits));
        rest = rest.slice(fits);
      }
      line = rest;
      lineWidth = chunkWidth(rest);
      lastWord = rest;
    }
    lines.push(line);
  }
  return lines;
}

interface ColumnNeed {
  /** The width of its widest cell on one line. */
  natural: number;
  /** The width below which its longest word would break. */
  minimum: number;
}

/**
 * Column widths that fit `available`: all natural widths when they fit; otherwise every column gets
 * its minimum and the rest of the width goes to the columns in proportion to what they still lack,
 * so a long evidence text takes the room and short ids stay on one line.
 */
function columnWidths(needs: ColumnNeed[], available: number): number[] {
  const sum = (widths: number[]) => widths.reduce((total, width) => total + width, 0);
  const natural = needs.map((need) => need.natural);
  if (sum(natural) <= available) return natural;
  const minimum = needs.map((need) => Math.min(need.minimum, need.natural, available / 4));
  const extra = available - sum(minimum);
  if (extra <= 0) return minimum.map((width) => (width * available) / sum(minimum));
  const lacking = needs.map((need, index) => need.natural - (minimum[index] ?? 0));
  return minimum.map((width, index) => width + (extra * (lacking[index] ?? 0)) / sum(lacking));
}

/**
 * Lets the event loop turn once every 50 rows or pages (`index` counts them): a document of thousands
 * of rows takes seconds to draw, and the API serving it must go on answering everyone else meanwhile.
 */
async function pauseEvery50(index: number): Promise<void> {
  if (index % 50 === 49) await setImmediate();
}

/** Renders the sections' Markdown as one A4 PDF, each section from a new page, with its footer on each of its pages. */

export async function markdownToPdf(sections: PdfSection[], info: PdfInfo): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margins,
    bufferPages: true,
    info: { Title: info.title, Subject: info.subject, CreationDate: new Date(info.createdAt) },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  const left = margins.left;
  const width = doc.page.width - margins.left - margins.right;
  const pageBottom = () => doc.page.height - margins.bottom;

  function runsAt(runs: Run[], x: number, runWidth: number, size: number): void {
    for (const line of lines(runs)) {
      doc.x = x;
      if (line.length === 0) doc.font(fonts.body).fontSize(size).text(' ', { width: runWidth });
      line.forEach((run, index) => {
        useFont(doc, run.font, run.text)
          .fontSize(size)
          .text(run.text, { width: runWidth, continued: index < line.length - 1 });
      });
    }
  }

  /** A heading keeps with what follows: at the foot of a page, it starts the next one instead. */
  function heading(token: Tokens.Heading): void {
    const text = plainText(inlineRuns(token.tokens));
    useFont(doc, 'bold', text).fontSize(headingSizes[token.depth] ?? bodySize + 1);
    const withFirstLines = doc.heightOfString(text, { width }) + keptLines * bodySize * 1.5;
    if (doc.y + withFirstLines > pageBottom()) doc.addPage();
    else doc.moveDown(0.6);
    doc.x = left;
    doc.text(text, { width });
    doc.moveDown(0.3);
  }

  function list(token: Tokens.List): void {
    token.items.forEach((item, index) => {
      const marker = token.ordered ? `${Number(token.start || 1) + index}.` : '\u2022';
      const y = doc.y;
      doc.font(fonts.body).fontSize(bodySize).text(marker, left, y, { width: 14 });
      doc.y = y;
      runsAt(inlineRuns(item.tokens), left + 16, width - 16, bodySize);
    });
    doc.moveDown(0.5);
  }

  /** One cell's text in one font: a cell that is only a code span is code, any other is body text. */
  function cell(tokens: Token[]): Run {
    const runs = inlineRuns(tokens);
    return runs.length > 0 && runs.every((run) => run.font === 'code')
      ? { text: plainText(runs), font: 'code' }
      : { text: plainText(runs), font: 'body' };
  }

  /** The width `text` of the cell takes on one line, padding included. */
  /** Widths of chunks (a word and its space) at the table's size, by font: words repeat in every row. */
  const chunkWidths = new Map<string, Map<string, number>>();
  /** Sets the cell's font (its whole text picks it, as when it is drawn); the width of a chunk in it. */
  function cellFont(content: Run, bold: boolean): (chunk: string) => number {
    const role = bold ? 'bold' : content.font;
    const font = `${role}:${cjkFaces && cjkText.test(content.text) ? 'cjk' : ''}`;
    useFont(doc, role, content.text).fontSize(tableSize);
    let widths = chunkWidths.get(font);
    if (!widths) chunkWidths.set(font, (widths = new Map()));
    const known = widths;
    return (chunk) => {
      let width = known.get(chunk);
      if (width === undefined) known.set(chunk, (width = doc.widthOfString(chunk)));
      return width;
    };
  }

  function textWidth(content: Run, text: string, bold: boolean): number {
    return chunkedWidth(text, cellFont(content, bold)) + 2 * cellPadding + 1;
  }

  /** The lines of each cell at each width it was laid out at: a row is measured, then drawn. */
  const laidOut = new WeakMap<Run, Map<string, string[]>>();
  /** The lines of a cell, in its font, as it is drawn. */
  function cellLines(content: Run, cellWidth: number, bold: boolean): string[] {
    const key = `${cellWidth}:${bold}`;
    let byWidth = laidOut.get(content);
    if (!byWidth) laidOut.set(content, (byWidth = new Map()));
    let lines = byWidth.get(key);
    if (!lines) {
      lines = wrap(content.text, cellWidth - 2 * cellPadding, cellFont(content, bold));
      byWidth.set(key, lines);
    }
    useFont(doc, bold ? 'bold' : content.font, content.text).fontSize(tableSize);
    return lines;
  }

  function cellHeight(content: Run, cellWidth: number, bold = false): number {
    const lines = cellLines(content, cellWidth, bold);
    useFont(doc, bold ? 'bold' : content.font, content.text).fontSize(tableSize);
    return lines.length * doc.currentLineHeight(true) + 2 * cellPadding;
  }

  function row(cells: Run[], widths: number[], header: boolean): void {
    const height = Math.max(
      ...cells.map((content, index) => cellHeight(content, widths[index] ?? 0, header)),
    );
    let x = left;
    const y = doc.y;
    cells.forEach((content, index) => {
      const cellWidth = widths[index] ?? 0;
      if (header) doc.rect(x, y, cellWidth, height).fillAndStroke('#f0f0f0', '#bbbbbb');
      else doc.rect(x, y, cellWidth, height).stroke('#bbbbbb');
      doc.fillColor('#1a1a1a');
      cellLines(content, cellWidth, header).forEach((line, number) => {
        doc.text(line, x + cellPadding, y + cellPadding + number * doc.currentLineHeight(true), {
          lineBreak: false,
        });
      });
      x += cellWidth;
    });
    doc.x = left;
    doc.y = y + height;
  }

  /**
   * A table whose columns share the page width and whose cells wrap, the header again on each page.
   * A row taller than a whole page is drawn as labelled paragraphs instead, so nothing is cut.
   */
  async function table(token: Tokens.Table): Promise<void> {
    const header = token.header.map((entry) => cell(entry.tokens));
    const rows = token.rows.map((entries) => entries.map((entry) => cell(entry.tokens)));
    // Loops, not Math.max(...): a table of thousands of rows of long evidence has millions of words,
    // more arguments than a call can take.
    const needs: ColumnNeed[] = [];
    for (const [column, heading] of header.entries()) {
      const cells = [heading, ...rows.flatMap((cells) => cells[column] ?? [])];
      let natural = 0;
      let minimum = 0;
      for (const [index, content] of cells.entries()) {
        await pauseEvery50(index);
        natural = Math.max(natural, textWidth(content, content.text, index === 0));
        for (const word of content.text.split(/\s+/))
          minimum = Math.max(minimum, textWidth(content, word, index === 0));
      }
      needs.push({ natural, minimum });
    }
    const widths = columnWidths(needs, width);
    const pageHeight = pageBottom() - margins.top;
    const hasHeader = header.some((content) => content.text !== '');
    const headerHeight = hasHeader
      ? Math.max(...header.map((content, index) => cellHeight(content, widths[index] ?? 0, true)))
      : 0;
    const drawHeader = () => hasHeader && row(header, widths, true);
    if (doc.y + headerHeight + tableSize * 3 > pageBottom()) doc.addPage();
    drawHeader();
    for (const [index, cells] of rows.entries()) {
      await pauseEvery50(index);
      const height = Math.max(...cells.map((content, index) => cellHeight(content, widths[index] ?? 0)));
      if (height + headerHeight > pageHeight) {
        labelledRow(header, cells);
        continue;
      }
      if (doc.y + height > pageBottom()) {
        doc.addPage();
        drawHeader();
      }
      row(cells, widths, false);
    }
    doc.moveDown(0.8);
  }

  function labelledRow(header: Run[], cells: Run[]): void {
    doc.moveDown(0.3);
    cells.forEach((content, index) => {
      const label = header[index]?.text;
      runsAt(
        [...(label ? [{ text: `${label}: `, font: 'bold' as const }] : []), content],
        left,
        width,
        tableSize,
      );
    });
    doc.moveDown(0.5);
  }

  /** The Markdown's blocks from where the page stands. */
  async function draw(markdown: string): Promise<void> {
    for (const token of markdownParser.lexer(markdown)) {
      switch (token.type) {
        case 'heading':
          heading(token as Tokens.Heading);
          break;
        case 'paragraph':
          runsAt(inlineRuns((token as Tokens.Paragraph).tokens), left, width, bodySize);
          doc.moveDown(0.6);
          break;
        case 'list':
          list(token as Tokens.List);
          break;
        case 'table':
          await table(token as Tokens.Table);
          break;
        case 'space':
        case 'hr':
          break;
        default:
          runsAt([{ text: token.raw.trim(), font: 'body' }], left, width, bodySize);
          doc.moveDown(0.6);
      }
    }
  }

  const pageCount = () => doc.bufferedPageRange().count;
  const ranges: { section: PdfSection; first: number; last: number }[] = [];
  for (const [index, section] of sections.entries()) {
    if (index > 0) doc.addPage();
    const first = pageCount() - 1;
    await draw(section.markdown);
    ranges.push({ section, first, last: pageCount() - 1 });
  }
  await footers(doc, ranges);
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}

/** Each section's footer on each of its pages, below the text area (where drawing adds no page). */
async function footers(
  doc: PDFKit.PDFDocument,
  ranges: { section: PdfSection; first: number; last: number }[],
): Promise<void> {
  for (const { section, first, last } of ranges) {
    for (let index = first; index <= last; index++) {
      await pauseEvery50(index);
      doc.switchToPage(index);
      doc.page.margins.bottom = 0;
      const width = doc.page.width - margins.left - margins.right;
      const [top, bottom] = section.footer(index - first + 1, last - first + 1);
      doc
        .fillColor('#555555')
        .font(fonts.body)
        .fontSize(7)
        .text(top, margins.left, doc.page.height - 52, { width, lineBreak: false })
        .text(bottom, margins.left, doc.page.height - 42, { width });
    }
  }
}
