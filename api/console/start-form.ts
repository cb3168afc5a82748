// The start form: the same request POST /v1/transitions takes, typed into fields a person can fill
// (people one per line, the scope pasted as CSV or JSON), read back into that request's JSON shape.
// What cannot even be read (broken JSON, a CSV without its header) is reported on its field; the
// rest is left to the start route's own schema.
import { DateTime, IANAZone } from 'luxon';
import { parse as parseCsv } from 'csv-parse/sync';
import { defaultApprovalSteps, type TransitionKind } from '../../domain/schemas.js';
import { stepCatalogue } from '../../workflows/catalogue.js';
import { instantIn } from './dates.js';
import { every, nested, single, type FormBody } from './forms.js';

const scopeColumns = {
  devices: ['id', 'hostname', 'type', 'agents'],
  credentials: ['id', 'system', 'account'],
  dataSets: ['id', 'description', 'destination', 'format'],
  backupJobs: ['id', 'device', 'rto'],
} as const;
type AssetKind = keyof typeof scopeColumns;

const scopeOf: Record<TransitionKind, AssetKind[]> = {
  offboarding: ['devices', 'credentials', 'dataSets'],
  onboarding: ['devices', 'credentials', 'backupJobs'],
};

const termFields: Record<TransitionKind, string[]> = {
  offboarding: [
    'terms.noticeReceivedAt',
    'terms.noticePeriod',
    'terms.transitionPeriod',
    'terms.retentionPeriod',
    'terms.regulated',
  ],
  onboarding: ['terms.startAt', 'terms.rotationPeriod'],
};

const approvalTermFields = [
  'terms.approvalTimeout',
  'terms.reminderInterval',
  'terms.onTimeout',
  'terms.approvalPolicy',
];

/** Every field of a kind's form, by its JSON path. */
export function startFields(kind: TransitionKind): string[] {
  return [
    'client.id',
    'client.name',
    'client.timezone',
    'requestedBy',
    'contacts.approvers',
    'contacts.operators',
    ...termFields[kind],
    ...approvalTermFields,
    'approvalSteps',
    ...scopeOf[kind].map((asset) => `scope.${asset}`),
  ];
}

/** What a fresh form shows: the schema's own defaults. */
export function startDefaults(kind: TransitionKind): Record<string, string> {
  return {
    'client.timezone': 'UTC',
    'terms.approvalTimeout': 'P5D',
    'terms.reminderInterval': 'P1D',
    'terms.onTimeout': 'escalate',
    'terms.approvalPolicy': 'any',
    ...(kind === 'offboarding'
      ? { 'terms.noticePeriod': 'P30D', 'terms.transitionPeriod': 'P60D', 'terms.retentionPeriod': 'P90D' }
      : { 'terms.rotationPeriod': 'P90D' }),
  };
}

export const defaultApprovals = (kind: TransitionKind): string[] => [...defaultApprovalSteps[kind]];

/** The header row each pasted CSV starts with, as the form's hint shows it. */
export const csvHeader = (asset: AssetKind) => scopeColumns[asset].join(',');
export const scopeAssets = (kind: TransitionKind) => scopeOf[kind];

/** "Dana Reyes <dana@acme.example>" or "Dana Reyes, dana@acme.example", one person a line. */
function people(text: string): { name: string; email: string }[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const match = /^(.*?)[\s,;]*<?([^\s<>,;]+@[^\s<>,;]+?)>?$/.exec(line);
      return match
        ? { name: match[1]!.replace(/^["']|["']$/g, '').trim(), email: match[2]! }
        : { name: line, email: '' };
    });
}

class Unreadable extends Error {}

/** A pasted list of assets: a JSON array, or CSV whose first row names the columns. */
function assets(text: string, asset: AssetKind): unknown[] {
  const source = text.trim();
  if (!source) return [];
  if (source.startsWith('[') || source.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(source);
    } catch (error) {
      throw new Unreadable(`not valid JSON (${(error as Error).message})`);
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as Record<string, unknown>)[asset];
    if (!Array.isArray(list)) throw new Unreadable(`expected a JSON array of ${asset}`);
    return list;
  }
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(source, { columns: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw new Unreadable(`not valid CSV (${(error as Error).message})`);
  }
  const header = Object.keys(rows[0] ?? {});
  if (!header.includes('id'))
    throw new Unreadable(`the first row names the columns, for example: ${csvHeader(asset)}`);
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row)
        .filter(([, value]) => value !== '')
        .map(([column, value]) => [column, column === 'agents' ? value.split(/[\s;|]+/) : value]),
    ),
  );
}

/** Now, as the notice date field shows it in the client's zone. */
function nowIn(zone: string, now = Date.now()): string {
  return DateTime.fromMillis(now, { zone: IANAZone.isValidZone(zone) ? zone : 'UTC' }).toFormat(
    "yyyy-LL-dd'T'HH:mm:ss",
  );
}

export interface StartForm {
  /** What the fields hold, to show them again as typed. */
  values: Record<string, string>;
  approvalSteps: string[];
  /** The body for the start route's schema. */
  request: Record<string, unknown>;
  /** Fields that could not be read at all, by field name. */
  unreadable: Record<string, string>;
}

export function readStartForm(body: FormBody, kind: TransitionKind, now = Date.now()): StartForm {
  const fields = startFields(kind).filter((name) => name !== 'approvalSteps');
  const values = Object.fromEntries(fields.map((name) => [name, single(body, name)]));
  const zone = values['client.timezone']!;
  // An empty notice date means now; it is written back so the plan and the start agree on it.
  if (kind === 'offboarding' && !values['terms.noticeReceivedAt'])
    values['terms.noticeReceivedAt'] = nowIn(zone, now);
  const approvalSteps = every(body, 'approvalSteps');
  const unreadable: Record<string, string> = {};
  const read: Record<string, unknown> = { ...values };
  read['contacts.approvers'] = people(values['contacts.approvers']!);
  read['contacts.operators'] = people(values['contacts.operators']!);
  for (const name of ['terms.noticeReceivedAt', 'terms.startAt'].filter((field) => field in values))
    read[name] = instantIn(values[name]!, zone);
  if ('terms.regulated' in values)
    read['terms.regulated'] = values['terms.regulated']!.split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
  for (const asset of scopeOf[kind]) {
    const name = `scope.${asset}`;
    try {
      read[name] = assets(values[name]!, asset);
    } catch (error) {
      if (!(error instanceof Unreadable)) throw error;
      unreadable[name] = error.message;
      delete read[name];
    }
  }
  const request = { ...nested(read), kind, approvalSteps };
  return { values, approvalSteps, request, unreadable };
}

/** A checkbox for each step that can ask the client, saying when it asks; ticked as the form (or the defaults) say. */
export function approvalStepChoices(kind: TransitionKind, ticked: string[]) {
  return stepCatalogue[kind]
    .filter((step) => step.approvalWhen)
    .map((step) => ({ value: step.key, when: step.approvalWhen, checked: ticked.includes(step.key) }));
}
