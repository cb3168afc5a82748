// From an HTML form to what the JSON routes take, and back: fields are named by their JSON path
// (`evidence.text`, `client.id`), so a form builds the very body the API validates, with the very
// schema, and each zod issue finds its way back to the field it is about.
import type { z } from 'zod';

/** A urlencoded body: a repeated name (checkboxes) arrives as an array. */
export type FormBody = Record<string, string | string[] | undefined>;

/** A field's value: '' when absent; the last one when repeated. */
export function single(body: FormBody, name: string): string {
  const value = body[name];
  return (Array.isArray(value) ? value.at(-1) : value) ?? '';
}

/** Every value of a repeated field (checkboxes). */
export function every(body: FormBody, name: string): string[] {
  const value = body[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * The nested object the JSON routes take, from dotted field names. An empty field is left out, as a
 * JSON client leaves out what it does not set: optional fields keep their defaults, required ones
 * are reported missing.
 */
export function nested(values: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === '' || value === undefined) continue;
    const path = name.split('.');
    let target = result;
    for (const key of path.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[path.at(-1)!] = value;
  }
  return result;
}

export interface FieldErrors {
  /** The first problem of each field, by field name. */
  byField: Record<string, string>;
  /** Every problem, as the summary at the top of a form lists it. */
  all: { field: string | null; message: string }[];
}

/** A zod message as a person reads it next to a field. */
function readable(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return 'this is required';
  return issue.message;
}

/**
 * Assigns each issue to the form field whose name is the longest prefix of its path; what lies past
 * the field (a line of a list, a column of a pasted row) is named in the message: "entry 2, email".
 */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], fields: readonly string[]): FieldErrors {
  const byField: Record<string, string> = {};
  const all: FieldErrors['all'] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    const field =
      [...fields]
        .sort((a, b) => b.length - a.length)
        .find((name) => path.join('.') === name || path.join('.').startsWith(`${name}.`)) ?? null;
    const rest = field ? issue.path.slice(field.split('.').length) : issue.path;
    const where = rest.map((part) => (typeof part === 'number' ? `entry ${part + 1}` : String(part)));
    const message = where.length ? `${where.join(', ')}: ${readable(issue)}` : readable(issue);
    if (field) byField[field] ??= message;
    all.push({ field, message });
  }
  return { byField, all };
}
