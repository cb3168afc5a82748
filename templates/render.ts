import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import { Marked } from 'marked';
import { markdownLineBreak } from '../domain/markdown.js';
import { dateInWordsAndUtc } from '../domain/timeline.js';
import { markdownTemplateCompiler } from './markdown-templates.js';

export interface TemplateRenderer {
  /** Renders `templates/<name>` with the context; throws if the template is missing. */
  render(name: string, context: object): Promise<string>;
  /** Markdown to a standalone HTML page with no external assets. */
  page(title: string, markdown: string): Promise<string>;
  /** The HTML part of an email, from its Markdown text part. */
  emailHtml(subject: string, markdown: string, msp: { name: string; contact?: string }): Promise<string>;
  /** An HTML fragment (already escaped by its template) inside the standalone page layout. */
  htmlPage(title: string, body: string): Promise<string>;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** The only link schemes rendered HTML may carry; `javascript:`, `data:` and relative links stay text. */
const linkSchemes = new Set(['http:', 'https:', 'mailto:']);

function allowedLink(href: string): boolean {
  try {
    return linkSchemes.has(new URL(href).protocol);
  } catch {
    return false;
  }
}

/**
 * Markdown to HTML where raw HTML in the source is shown, never interpreted (but for the line break
 * escaped text writes), links keep only allowed schemes, and images show their alt text: pages and
 * emails load nothing from elsewhere. Bare URLs and addresses are not made links: escaped user text
 * would turn into wrong ones (`first\_last@x` links `last@x`), so links come only from what
 * templates write as `<…>`.
 */
export const markdownParser = new Marked({
  renderer: {
    html: ({ text }) => (text === markdownLineBreak ? text : escapeHtml(text)),
    link(token) {
      return allowedLink(token.href) ? false : this.parser.parseInline(token.tokens);
    },
    image: ({ text }) => escapeHtml(text),
  },
  tokenizer: { url: () => undefined },
});

export function createTemplateRenderer(dir: string): TemplateRenderer {
  const handlebars = Handlebars.create();
  // Documents date what happened in words in the client's zone with UTC beside.
  handlebars.registerHelper('when', (iso: unknown, zone: unknown) =>
    typeof iso === 'string' && iso ? dateInWordsAndUtc(iso, typeof zone === 'string' ? zone : 'UTC') : '—',
  );
  handlebars.registerHelper('or', (a: unknown, b: unknown) => a || b);
  handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  /** How many of `total` a shortened `list` leaves out (0 when it shows them all or `total` is absent). */
  handlebars.registerHelper('notListed', (total: unknown, list: unknown) =>
    typeof total === 'number' && Array.isArray(list) ? Math.max(0, total - list.length) : 0,
  );
  handlebars.registerHelper('json', (value: unknown) => JSON.stringify(value));
  handlebars.registerHelper('list', (items: unknown) => (Array.isArray(items) ? items.join(', ') : ''));
  const compileMarkdown = markdownTemplateCompiler(handlebars);
  const compile = (name: string, source: string) =>
    name.endsWith('.md.hbs') ? compileMarkdown(source) : handlebars.compile(source);
  const cache = new Map<string, Promise<Handlebars.TemplateDelegate>>();
  let partials: Promise<void> | undefined;

  /** Every `templates/partials/<name>.hbs` becomes the partial `{{> name}}`. */
  async function loadPartials(): Promise<void> {
    const partialDir = path.join(dir, 'partials');
    for (const file of await readdir(partialDir)) {
      handlebars.registerPartial(
        file.replace(/\.(md|html|txt)?\.?hbs$/, ''),
        compile(file, await readFile(path.join(partialDir, file), 'utf8')),
      );
    }
  }

  async function compiled(name: string): Promise<Handlebars.TemplateDelegate> {
    partials ??= loadPartials();
    await partials;
    let template = cache.get(name);
    if (!template) {
      template = readFile(path.join(dir, name), 'utf8').then((source) => compile(name, source));
      cache.set(name, template);
    }
    return template;
  }

  return {
    async render(name, context) {
      return (await compiled(name))(context);
    },
    async page(title, markdown) {
      return this.htmlPage(title, await markdownParser.parse(markdown, { async: true }));
    },
    async emailHtml(subject, markdown, msp) {
      const body = await markdownParser.parse(markdown, { async: true });
      return (await compiled('email/layout.html.hbs'))({ subject, body, msp });
    },
    async htmlPage(title, body) {
      return (await compiled('page.html.hbs'))({ title, body });
    },
  };
}
