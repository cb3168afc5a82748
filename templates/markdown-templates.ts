// Handlebars for Markdown templates: every `{{value}}` is escaped as Markdown text, so what users
// typed (names, evidence, comments) reads as itself; `{{{value}}}` inserts Markdown the code built
// (an email's summary and paragraphs) or a URL inside `<…>`, where escapes would not be read.
//
// Handlebars escapes through one HTML function that every environment shares (compiled templates
// capture the module's `escapeExpression`), so rather than swap it, each escaped mustache of a
// Markdown template is rewritten into a call of the escaping helper before it is compiled.
import type Handlebars from 'handlebars';
import { escapeMarkdown } from '../domain/markdown.js';

type Environment = typeof Handlebars;

const escapeHelper = 'markdownText';

/** Registers the escaping helper on `handlebars` and returns the compiler of Markdown templates. */
export function markdownTemplateCompiler(handlebars: Environment) {
  handlebars.registerHelper(escapeHelper, (value: unknown) =>
    value === undefined || value === null ? '' : escapeMarkdown(String(value)),
  );
  return (source: string): Handlebars.TemplateDelegate => {
    // Unprocessed: compile() applies the standalone-whitespace rules to the tree itself.
    const ast = handlebars.parseWithoutProcessing(source);
    escapeMustaches(ast.body, handlebars);
    return handlebars.compile(ast, { noEscape: true });
  };
}

function escapeMustaches(statements: hbs.AST.Statement[], handlebars: Environment): void {
  statements.forEach((statement, index) => {
    if (statement.type === 'MustacheStatement' && (statement as hbs.AST.MustacheStatement).escaped) {
      statements[index] = escaped(statement as hbs.AST.MustacheStatement, handlebars);
    }
    const block = statement as Partial<hbs.AST.BlockStatement>;
    if (block.program) escapeMustaches(block.program.body, handlebars);
    if (block.inverse) escapeMustaches(block.inverse.body, handlebars);
  });
}

/** `{{value}}` becomes `{{{markdownText value}}}`, `{{helper a b}}` becomes `{{{markdownText (helper a b)}}}`. */
function escaped(mustache: hbs.AST.MustacheStatement, handlebars: Environment): hbs.AST.MustacheStatement {
  const path = mustache.path as hbs.AST.PathExpression;
  const callsHelper =
    mustache.params.length > 0 ||
    (mustache.hash?.pairs.length ?? 0) > 0 ||
    (path.type === 'PathExpression' && Object.hasOwn(handlebars.helpers, path.original));
  const value: hbs.AST.Expression = callsHelper
    ? ({
        type: 'SubExpression',
        path,
        params: mustache.params,
        hash: mustache.hash,
        loc: mustache.loc,
      } as hbs.AST.SubExpression)
    : mustache.path;
  const helper: hbs.AST.PathExpression = {
    type: 'PathExpression',
    data: false,
    depth: 0,
    parts: [escapeHelper],
    original: escapeHelper,
    loc: mustache.loc,
  };
  const noHash: hbs.AST.Hash = { type: 'Hash', pairs: [], loc: mustache.loc };
  return { ...mustache, path: helper, params: [value], hash: noHash, escaped: false };
}
