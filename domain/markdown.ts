// User-supplied text (names, evidence, comments) inside the Markdown that templates and workflows
// write: it must read as the text it is, never as a heading, a link, raw HTML or a table cell break.
// No Node imports: the workflows escape the user text they put into their own paragraphs.

/**
 * What escaped text writes for a line break: `\n` would end a table row or start a new block, and
 * the renderer lets this one tag through (any other HTML in the source is shown as text).
 */
export const markdownLineBreak = '<br>';

/** Punctuation that makes Markdown anywhere in a line: escapes, code, emphasis, links, HTML, table cells. */
const inlineSyntax = /[\\`*_~[\]<|]/g;
/** `&` only where it would start an entity reference (`&amp;`, `&#106;`): a lone `&` reads as itself. */
const entityStart = /&(?=#?[0-9a-z]+;)/gi;
/**
 * What makes a block when it starts a line (a value may, and may end it): a heading, a quote, a
 * list item, a thematic break or setext underline. `#tag`, `-5` or `--prune` are left as they are.
 */
const blockMarker = /^([ \t]*)(#{1,6}(?=[ \t]|$)|>|[-+](?=[ \t]|$)|[-=](?=[-= \t]*$))/;
/** An ordered list item (`1.` or `1)` then a space); `12.4 GiB` is left as it is. */
const orderedListMarker = /^([ \t]*\d{1,9})([.)])(?=[ \t]|$)/;
const newline = /\r\n?|\n/g;

/** Makes `text` literal in Markdown: it renders as exactly these characters, newlines as line breaks. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(inlineSyntax, '\\$&')
    .replace(entityStart, '\\&')
    .replace(blockMarker, '$1\\$2')
    .replace(orderedListMarker, '$1\\$2')
    .replace(newline, markdownLineBreak);
}

/** A backslash-escaped ASCII punctuation character, or the line break. */
const escapedCharacter = new RegExp(String.raw`\\([!-/:-@[-\`{-~])|${markdownLineBreak}`, 'g');

/** The text back from escaped Markdown, where no Markdown is rendered (an email's subject line). */
export function unescapeMarkdown(markdown: string): string {
  return markdown.replace(escapedCharacter, (_match, character: string | undefined) => character ?? '\n');
}
