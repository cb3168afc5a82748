// The request body of POST /v1/transitions (docs/design.md §9). Shared by the API (validation, dry run,
// OpenAPI) and by the workflows (as types only). No Node imports: this file is bundled for workflows.
import { IANAZone } from 'luxon';
import { z } from 'zod';
import {
  durationMillis,
  latestDate,
  offboardingTermPastLatestDate,
  onboardingTermPastLatestDate,
} from './timeline.js';

export const offboardingSteps = [
  'termination-notice',
  'data-export',
  'cutover',
  'agent-removal',
  'credential-rotation',
  'transition-assistance',
  'retention-deletion',
  'closure',
] as const;
export const onboardingSteps = [
  'discovery',
  'credential-vaulting',
  'agent-deployment',
  'restore-validation',
  'service-acceptance',
] as const;
export type OffboardingStep = (typeof offboardingSteps)[number];
export type OnboardingStep = (typeof onboardingSteps)[number];
export type StepKey = OffboardingStep | OnboardingStep;

export const transitionKinds = ['offboarding', 'onboarding'] as const;
export type TransitionKind = (typeof transitionKinds)[number];

export const defaultApprovalSteps = {
  offboarding: ['data-export', 'agent-removal', 'credential-rotation', 'retention-deletion'],
  onboarding: ['service-acceptance'],
} as const satisfies { offboarding: OffboardingStep[]; onboarding: OnboardingStep[] };

export const stepsOf = { offboarding: offboardingSteps, onboarding: onboardingSteps } as const;

export const limits = {
  text: 200,
  longText: 2000,
  people: 20,
  /** Approvers of one request: each gets their own link, and a policy-"all" step waits for every one. */
  approvers: 50,
  assets: 500,
  /** Devices of one transition: a large client's endpoints; stored by reference when the scope is large. */
  devices: 10_000,
} as const;

/** C0 and C1 control characters, DEL, and Unicode's line and paragraph separators. */
const controlCharacter = /[\p{Cc}\u2028\u2029]/u;
const controlCharacterButLineBreak = /(?![\r\n])[\p{Cc}\u2028\u2029]/u;

function refusing(pattern: RegExp, expected: string) {
  return z.superRefine<string>((value, ctx) => {
    const found = pattern.exec(value)?.[0];
    if (found) {
      const codePoint = found.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      ctx.addIssue({ code: 'custom', message: `${expected} (found U+${codePoint})` });
    }
  });
}

/** For names, ids and labels: a newline there would be structure in the documents and emails. */
export const oneLine = refusing(controlCharacter, 'expected one line of text without control characters');
/** For free text (comments, evidence, reasons): line breaks stay, other control characters do not. */
export const multiLine = refusing(
  controlCharacterButLineBreak,
  'expected text without control characters other than line breaks',
);

const slug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'expected a slug: lowercase letters, digits and -');
/** A name or label: one line of up to `limits.text` characters. */
export const shortText = z.string().trim().min(1).max(limits.text).check(oneLine);

/** The longest duration a term may have; calendar units count as 365-day years and 30-day months. */
const longestDuration = 'P100Y';

/** An ISO 8601 duration such as P30D or PT2S, of at most P100Y and at least `atLeast` (default: more than zero). */
export function isoDuration(options: { atLeast?: string } = {}) {
  const { atLeast } = options;
  return z
    .string()
    .regex(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/, {
      error: 'expected an ISO 8601 duration such as P30D or PT2S',
      abort: true,
    })
    .refine((value) => durationMillis(value) <= durationMillis(longestDuration), {
      error: `expected at most ${longestDuration} (100 years)`,
      abort: true,
    })
    .refine(
      (value) => (atLeast ? durationMillis(value) >= durationMillis(atLeast) : durationMillis(value) > 0),
      atLeast ? `expected at least ${atLeast}` : 'expected a duration greater than zero',
    );
}

/** Runs a check across fields only once each field is valid, so it can read them as such. */
export const onceValid = { when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0 };

/** Refuses terms that would make the runbook compute a date past `latestDate`, naming the term. */
function datesWithinRange<T>(termPastLatestDate: (terms: T, now: string) => string | null) {
  return (terms: T, ctx: z.RefinementCtx<T>) => {
    const term = termPastLatestDate(terms, new Date().toISOString());
    if (term)
      ctx.addIssue({
        code: 'custom',
        path: [term],
        message: `puts a date the runbook computes past ${latestDate}, the latest a four-digit ISO 8601 year can hold`,
      });
  };
}

export const instant = z.iso.datetime({
  offset: true,
  error: 'expected an ISO 8601 date-time with offset, e.g. 2026-11-22T00:00:00Z',
});

export const person = z.object({ name: shortText, email: z.email().max(limits.text).toLowerCase() });

function uniqueBy<T>(key: (item: T) => string, what: string) {
  return (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    for (const [index, item] of items.entries()) {
      const id = key(item);
      if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [index], message: `duplicate ${what} "${id}"` });
      seen.add(id);
    }
  };
}

/** The connectors that can do an asset's work; `manual` is a task for a person. */
const deviceConnector = z.enum(['manual', 'ssh']).default('manual');
const credentialConnector = z.enum(['manual', 'ssh', 'ldap', 'postgres']).default('manual');
const dataSetConnector = z.enum(['manual', 'postgres', 'restic', 's3']).default('manual');
const backupJobConnector = z.enum(['manual', 'restic', 'postgres']).default('manual');

const snapshotPath = z
  .string()
  .trim()
  .min(1)
  .max(1000)
  .check(oneLine)
  .regex(/^\//, 'expected an absolute path');

/**
 * Where a data set or backup job lives in its connection's system: a PostgreSQL database (default:
 * the connection's), or which restic snapshots are the client's (default: every one in the repository).
 */
/** An export's destination a connector can reach: an `s3` connection and the prefix under it. */
const exportDestination = z.strictObject({
  connection: slug,
  prefix: z.string().trim().min(1).max(500).check(oneLine).regex(/^[^/]/, 'a prefix does not start with /'),
});

/** The destination of a data set in words, as a task title or an approval page says it. */
export function destinationText(destination: string | { connection: string; prefix: string } | undefined) {
  if (destination === undefined) return undefined;
  return typeof destination === 'string'
    ? destination
    : `S3 connection ${destination.connection}, prefix ${destination.prefix}`;
}

const dataSource = z.strictObject({
  database: z.string().trim().min(1).max(63).check(oneLine).optional(),
  host: z.string().trim().min(1).max(253).check(oneLine).optional(),
  tag: z.string().trim().min(1).max(200).check(oneLine).optional(),
  paths: z.array(snapshotPath).min(1).max(50).optional(),
  prefix: z.string().trim().min(1).max(500).check(oneLine).optional(),
});

/** An automated connector reaches its asset through a connection (POST /v1/connections); `manual` needs none. */
function connectionNamed(asset: { connector: string; connection?: string }, ctx: z.RefinementCtx): void {
  if (asset.connector !== 'manual' && !asset.connection)
    ctx.addIssue({
      code: 'custom',
      path: ['connection'],
      message: `the ${asset.connector} connector needs the id of a connection`,
    });
}

export const agentKinds = ['rmm', 'monitoring', 'backup', 'remote-access', 'edr'] as const;
export const deviceTypes = [
  'server',
  'workstation',
  'laptop',
  'switch',
  'firewall',
  'storage',
  'other',
] as const;

const scopeSchema = z
  .object({
    devices: z
      .array(
        z
          .object({
            id: slug,
            hostname: shortText,
            type: z.enum(deviceTypes),
            agents: z.array(z.enum(agentKinds)).max(agentKinds.length).default([]),
            connector: deviceConnector,
            connection: slug.optional(),
          })
          .superRefine(connectionNamed),
      )
      .max(limits.devices)
      .default([])
      .superRefine(uniqueBy((d) => d.id, 'device id')),
    credentials: z
      .array(
        z
          .object({
            id: slug,
            system: shortText,
            /** A local user (ssh), a DN (ldap), a role (postgres) or a name (manual). */
            account: shortText,
            connector: credentialConnector,
            connection: slug.optional(),
            /** Disable the MSP's own account instead of rotating a shared one (nothing is handed over). */
            revoke: z.boolean().optional(),
          })
          .superRefine(connectionNamed),
      )
      .max(limits.assets)
      .default([])
      .superRefine(uniqueBy((c) => c.id, 'credential id')),
    dataSets: z
      .array(
        z
          .object({
            id: slug,
            description: shortText,
            /** Where the export goes: in words for a person, or an S3 connection and prefix for a connector. */
            destination: z.union([shortText, exportDestination]).optional(),
            format: shortText.optional(),
            connector: dataSetConnector,
            connection: slug.optional(),
            source: dataSource.optional(),
          })
          .superRefine(connectionNamed),
      )
      .max(limits.assets)
      .default([])
      .superRefine(uniqueBy((d) => d.id, 'data set id')),
    backupJobs: z
      .array(
        z
          .object({
            id: slug,
            device: slug,
            rto: isoDuration().optional(),
            connector: backupJobConnector,
            connection: slug.optional(),
            /** Only the snapshots of these paths (restic), the latest of which is restored. */
            paths: z.array(snapshotPath).min(1).max(50).optional(),
          })
          .superRefine(connectionNamed),
      )
      .max(limits.assets)
      .default([])
      .superRefine(uniqueBy((b) => b.id, 'backup job id')),
  })
  .default({ devices: [], credentials: [], dataSets: [], backupJobs: [] });

/** What a request without a reminderInterval gets: a deployment's floor (MIN_REMINDER_INTERVAL) stays under it. */
export const defaultReminderInterval = 'P1D';

const approvalTerms = {
  // Each reminder is an email, and a timer shorter than a second is no deadline anyone can meet.
  approvalTimeout: isoDuration({ atLeast: 'PT1S' }).default('P5D'),
  reminderInterval: isoDuration({ atLeast: 'PT1S' }).default(defaultReminderInterval),
  onTimeout: z.enum(['escalate', 'reject']).default('escalate'),
  approvalPolicy: z.enum(['any', 'all']).default('any'),
};

/**
 * The most reminders one approval request may send before its deadline. Each reminder adds events to
 * the transition's history, which Temporal bounds; a few dozen reminders are already more than any
 * approver reads.
 */
export const maxRemindersPerRequest = 100;

/** `approvalTimeout / reminderInterval` within maxRemindersPerRequest. */
function remindersWithinBound(
  terms: { approvalTimeout: string; reminderInterval: string },
  ctx: z.RefinementCtx,
): void {
  const reminders = Math.floor(
    durationMillis(terms.approvalTimeout) / durationMillis(terms.reminderInterval),
  );
  if (reminders > maxRemindersPerRequest)
    ctx.addIssue({
      code: 'custom',
      path: ['reminderInterval'],
      message: `sends ${reminders} reminders before approvalTimeout (${terms.approvalTimeout}); at most ${maxRemindersPerRequest}: choose a longer reminderInterval or a shorter approvalTimeout`,
    });
}

const common = {
  client: z.object({
    id: slug,
    name: shortText,
    timezone: z
      .string()
      .refine((zone) => IANAZone.isValidZone(zone), 'expected an IANA time zone such as America/Chicago')
      .default('UTC'),
  }),
  requestedBy: z.email().max(limits.text),
  contacts: z.object({
    approvers: z
      .array(person)
      .min(1, 'at least one approver is needed')
      .max(limits.approvers)
      .superRefine(uniqueBy((p) => p.email, 'approver email')),
    operators: z
      .array(person)
      .min(1, 'at least one operator is needed')
      .max(limits.people)
      .superRefine(uniqueBy((p) => p.email, 'operator email')),
  }),
  scope: scopeSchema,
};

function approvalStepsOf<const S extends readonly [string, ...string[]]>(
  steps: S,
  defaults: readonly S[number][],
) {
  return z
    .array(z.enum(steps))
    .max(steps.length)
    .default([...defaults])
    .superRefine(uniqueBy((s) => s, 'approval step'));
}

export const offboardingRequestSchema = z.object({
  kind: z.literal('offboarding'),
  ...common,
  terms: z
    .object({
      noticeReceivedAt: instant,
      noticePeriod: isoDuration({ atLeast: 'PT0S' }),
      transitionPeriod: isoDuration({ atLeast: 'PT0S' }),
      retentionPeriod: isoDuration({ atLeast: 'PT0S' }),
      regulated: z.array(shortText).max(20).default([]),
      ...approvalTerms,
    })
    .superRefine(datesWithinRange(offboardingTermPastLatestDate), onceValid)
    .superRefine(remindersWithinBound, onceValid),
  approvalSteps: approvalStepsOf(offboardingSteps, defaultApprovalSteps.offboarding),
});

export const onboardingRequestSchema = z.object({
  kind: z.literal('onboarding'),
  ...common,
  terms: z
    .object({
      startAt: instant.optional(),
      /** How long a vaulted credential may stay unchanged: the custody record's rotation due date. */
      rotationPeriod: isoDuration().default('P90D'),
      ...approvalTerms,
    })
    .superRefine(datesWithinRange(onboardingTermPastLatestDate), onceValid)
    .superRefine(remindersWithinBound, onceValid)
    .default({
      rotationPeriod: 'P90D',
      approvalTimeout: 'P5D',
      reminderInterval: defaultReminderInterval,
      onTimeout: 'escalate',
      approvalPolicy: 'any',
    }),
  approvalSteps: approvalStepsOf(onboardingSteps, defaultApprovalSteps.onboarding),
});

export const startRequestSchema = z.discriminatedUnion('kind', [
  offboardingRequestSchema,
  onboardingRequestSchema,
]);

export type StartRequest = z.infer<typeof startRequestSchema>;
export type OffboardingRequest = z.infer<typeof offboardingRequestSchema>;
export type OnboardingRequest = z.infer<typeof onboardingRequestSchema>;
export type Person = z.infer<typeof person>;
export type Scope = z.infer<typeof scopeSchema>;
export type ApprovalTerms = Pick<OffboardingRequest['terms'], keyof typeof approvalTerms>;

/** Workflow id: one running transition of a kind per client (docs/design.md §3). */
export function transitionId(kind: TransitionKind, clientId: string): string {
  return `${kind}-${clientId}`;
}
