import { expect } from 'vitest';

/** One line that tries every way out of Markdown: links in both syntaxes, raw HTML, backslashes, pipes. */
export const hostileLine = (field: string) =>
  `${field}: [click](javascript:alert(1)) <javascript:alert(2)> <img src=x onerror=alert(3)> \\\\srv-01\\imaging a | b`;

/** The same, then a line that would be a heading. */
export const hostile = (field: string) => `${hostileLine(field)}\n# Forged heading`;

const entities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
const decodeEntities = (html: string) =>
  html.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot);/gi, (_entity, name: string) =>
    name.startsWith('#')
      ? String.fromCodePoint(Number(name.startsWith('#x') ? `0${name.slice(1)}` : name.slice(1)))
      : entities[name]!,
  );

/** What a reader of the HTML sees: tags dropped, line breaks kept, entities decoded. */
export const textOf = (html: string) => decodeEntities(html.replace(/<br>/g, '\n').replace(/<[^>]*>/g, ''));

/** Every address the HTML points a browser at, as the browser reads it. */
export const addressesIn = (html: string) =>
  [...html.matchAll(/\b(?:href|src|action)\s*=\s*"([^"]*)"/gi)].map((match) => decodeEntities(match[1]!));

/** No live element, no link but http(s) and mailto, no heading forged by a newline, and each text as typed. */
export function expectInert(html: string, texts: string[]): void {
  expect(html).not.toMatch(/<(script|img|iframe|object|embed|svg)\b/i);
  for (const address of addressesIn(html)) expect(address).toMatch(/^(https?|mailto):/);
  expect(html).not.toMatch(/<h\d[^>]*>[^<]*Forged/);
  const text = textOf(html);
  for (const expected of texts) expect(text).toContain(expected);
}
