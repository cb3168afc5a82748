import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defaultHistoryBudget, type KeyHolder } from '../domain/definitions.js';
import { defaultReminderInterval, isoDuration } from '../domain/schemas.js';
import { durationMillis } from '../domain/timeline.js';
import { vaultKeyProblems } from '../connectors/vault/vault-keys.js';
import { linkSecretProblems } from '../security/links.js';
import { codecKeysProblems } from '../security/payload-codec.js';

/** The project root: templates and the project-local Temporal binaries are found from here. */
export const projectRoot = path
  .dirname(path.dirname(fileURLToPath(import.meta.url)))
  .replace(/[\\/]dist$/, '');

/** The release, from package.json: the default build id and the API's version. */
export const packageVersion = (
  JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }
).version;

export const roles = ['operator', 'auditor'] as const;
export type Role = (typeof roles)[number];

export interface ApiKey {
  name: string;
  role: Role;
  /** Who holds the key, from `name[Display Name|Title]`: certificates name them. */
  holder?: KeyHolder;
  /** SHA-256 of the secret, hex: the secret itself is never kept once parsed. */
  sha256: string;
}

const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');

const port = z.coerce
  .number({ error: 'expected a port number' })
  .int('expected a whole number')
  .min(0, 'expected a port between 0 (any free port) and 65535')
  .max(65535, 'expected a port between 0 (any free port) and 65535');

/**
 * `name:role:secret`, or `name:role:sha256:<64 hex>` to keep only the hash on disk. The name may
 * describe its holder, `ops[Alex Kim|Systems engineer]:operator:…`: a bracket is not allowed in a
 * name, so every entry without one parses as before.
 */
const apiKeyEntry = z.string().transform((entry, ctx): ApiKey => {
  const [label = '', role = '', ...rest] = entry.split(':');
  const secret = rest.join(':');
  const described = /^([^[]*)\[([^|\]]+)(?:\|([^\]]+))?\]$/.exec(label);
  const name = described ? (described[1] ?? '') : label;
  const holder: KeyHolder | undefined = described
    ? { name: described[2]!.trim(), ...(described[3] ? { title: described[3].trim() } : {}) }
    : undefined;
  const hashed = /^sha256:([0-9a-f]{64})$/i.exec(secret);
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/i.test(name)) {
    ctx.addIssue({ code: 'custom', message: `key name "${name}" must be letters, digits, . _ -` });
  } else if (!(roles as readonly string[]).includes(role)) {
    ctx.addIssue({
      code: 'custom',
      message: `key "${name}" has role "${role}"; expected operator or auditor`,
    });
  } else if (!hashed && secret.length < 16) {
    ctx.addIssue({
      code: 'custom',
      message: `key "${name}" needs a secret of at least 16 characters (or sha256:<64 hex digits>)`,
    });
  }
  return {
    name,
    role: role as Role,
    sha256: hashed ? hashed[1]!.toLowerCase() : sha256Hex(secret),
    ...(holder ? { holder } : {}),
  };
});

const apiKeys = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  )
  .pipe(z.array(apiKeyEntry))
  .refine((keys) => new Set(keys.map((key) => key.name)).size === keys.length, 'key names must be unique');

/** Where documents and archives live when DOCUMENTS_URL names an S3 bucket. */
export interface S3Location {
  bucket: string;
  /** Every key starts with it: empty, or ending in `/`. */
  prefix: string;
  /** An S3-compatible server's URL; unset, AWS's endpoint for the region. */
  endpoint?: string;
  region: string;
  /** `bucket` in the path instead of the host name, as most S3-compatible servers need. */
  forcePathStyle: boolean;
  /** From AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; unset, the AWS SDK's usual sources (a role, a profile). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const s3Options = new Set(['endpoint', 'region', 'forcePathStyle']);

/** `s3://<bucket>/<prefix>?endpoint=<url-encoded>&region=<region>&forcePathStyle=true`. */
const documentsUrl = z.string().transform((value, ctx): S3Location => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(
      'expected s3://<bucket>/<prefix>?region=<region>[&endpoint=<url-encoded URL>&forcePathStyle=true]',
    );
  }
  if (url.protocol !== 's3:') return fail(`expected an s3:// URL, not ${url.protocol}//`);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(url.hostname))
    return fail('the bucket (after s3://) must be 3-63 lowercase letters, digits, dots and hyphens');
  const unknown = [...url.searchParams.keys()].filter((key) => !s3Options.has(key));
  if (unknown.length > 0)
    return fail(`unknown option ${unknown.join(', ')}; expected endpoint, region, forcePathStyle`);
  const region = url.searchParams.get('region');
  if (!region || !/^[a-z0-9-]+$/.test(region)) return fail('expected ?region=<region>, e.g. us-east-1');
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint))
    return fail('endpoint must be an http(s) URL, URL-encoded (endpoint=http%3A%2F%2Fs3.example%3A8333)');
  const forcePathStyle = url.searchParams.get('forcePathStyle') ?? 'false';
  if (forcePathStyle !== 'true' && forcePathStyle !== 'false')
    return fail('forcePathStyle must be true or false');
  const path = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  if (path.split('/').some((segment) => segment === '.' || segment === '..'))
    return fail('the prefix may not hold . or .. segments');
  return {
    bucket: url.hostname,
    prefix: path ? `${path}/` : '',
    ...(endpoint ? { endpoint: endpoint.replace(/\/+$/, '') } : {}),
    region,
    forcePathStyle: forcePathStyle === 'true',
  };
});

const stateDbUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'postgres:' || url.protocol === 'postgresql:') &&
      url.hostname !== '' &&
      url.pathname.length > 1
    );
  } catch {
    return false;
  }
}, 'expected postgres://user:password@host:port/database');

const optionalNonEmpty = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

/** A key list (`id:key,...`, newest last): one issue per bad entry, each naming it but never its key. */
const optionalKeyList = (problemsOf: (value: string) => string[]) =>
  optionalNonEmpty.pipe(
    z
      .string()
      .superRefine((value, ctx) => {
        for (const message of problemsOf(value)) ctx.addIssue({ code: 'custom', message });
      })
      .optional(),
  );

const envSchema = z
  .object({
    PORT: port.default(3000),
    HOST: optionalNonEmpty.pipe(
      z
        .string()
        .refine(
          (value) => isIP(value) !== 0,
          'expected an IP address to listen on: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)',
        )
        .optional(),
    ),
    PUBLIC_URL: z.url({ error: 'expected an absolute http(s) URL' }).optional(),
    TEMPORAL_ADDRESS: optionalNonEmpty.pipe(
      z
        .string()
        .regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port')
        .optional(),
    ),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TASK_QUEUE: z.string().min(1).default('msp-runbooks'),
    DATA_DIR: z.string().min(1).default(path.join(projectRoot, '.data')),
    SMTP_URL: optionalNonEmpty.pipe(
      z
        .string()
        .regex(/^smtps?:\/\/.+/, 'expected smtp://host:port or smtps://user:pass@host:port')
        .optional(),
    ),
    MAIL_FROM: z.string().min(3).default('MSP Runbooks <runbooks@msp.example>'),
    API_KEYS: optionalNonEmpty.pipe(apiKeys.optional()),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'expected a size like 100kb or 1mb')
      .default('100kb'),
    BULK_BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'expected a size like 100kb or 8mb')
      .default('8mb'),
    MAILBOX_DIR: optionalNonEmpty,
    LINK_SECRET: optionalKeyList(linkSecretProblems),
    VAULT_KEY: optionalKeyList(vaultKeyProblems),
    CODEC_KEYS: optionalKeyList(codecKeysProblems),
    WEB_UI_ORIGIN: optionalNonEmpty.pipe(
      z.url({ error: 'expected the Web UI origin, e.g. http://localhost:8233' }).optional(),
    ),
    MSP_NAME: z.string().trim().min(1).max(200).default('Your MSP'),
    MSP_ADDRESS: optionalNonEmpty.pipe(z.string().trim().max(500).optional()),
    MSP_CONTACT: optionalNonEmpty.pipe(z.string().trim().max(200).optional()),
    MIN_REMINDER_INTERVAL: isoDuration({ atLeast: 'PT1S' })
      .refine(
        (value) => durationMillis(value) <= durationMillis(defaultReminderInterval),
        `expected at most ${defaultReminderInterval}, the default reminderInterval`,
      )
      .default('PT1M'),
    HISTORY_BUDGET_EVENTS: optionalNonEmpty.pipe(
      z.coerce
        .number<string | undefined>({ error: 'expected a number of events' })
        .int('expected a whole number')
        .min(100, 'expected at least 100 events')
        .max(20_000, 'expected at most 20000 events (Temporal ends a run at 51,200)')
        .optional(),
    ),
    HISTORY_BUDGET_MB: optionalNonEmpty.pipe(
      z.coerce
        .number<string | undefined>({ error: 'expected megabytes' })
        .min(0.1, 'expected at least 0.1 MB')
        .max(20, 'expected at most 20 MB (Temporal ends a run at 50 MB)')
        .optional(),
    ),
    BUILD_ID: optionalNonEmpty.pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9._+-]{1,64}$/, 'expected 1-64 letters, digits and . _ + -')
        .optional(),
    ),
    WORKFLOW_BUNDLE: optionalNonEmpty.pipe(
      z
        .string()
        .refine((file) => existsSync(file), 'expected the file `npm run build:workflows` writes')
        .optional(),
    ),
    DOCUMENTS_URL: optionalNonEmpty.pipe(documentsUrl.optional()),
    STATE_DB_URL: optionalNonEmpty.pipe(stateDbUrl.optional()),
    AWS_ACCESS_KEY_ID: optionalNonEmpty,
    AWS_SECRET_ACCESS_KEY: optionalNonEmpty,
    TEMPORAL_UI_PORT: port.optional(),
    TEMPORAL_BIN: optionalNonEmpty,
    TEMPORAL_TEST_SERVER_BIN: optionalNonEmpty,
  })
  .superRefine((env, ctx) => {
    if (env.DOCUMENTS_URL && Boolean(env.AWS_ACCESS_KEY_ID) !== Boolean(env.AWS_SECRET_ACCESS_KEY))
      ctx.addIssue({
        code: 'custom',
        path: [env.AWS_ACCESS_KEY_ID ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'],
        message: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together',
      });
    // A key generated into one host's DATA_DIR could not open what another host sealed.
    if (env.STATE_DB_URL && !env.VAULT_KEY)
      ctx.addIssue({
        code: 'custom',
        path: ['VAULT_KEY'],
        message:
          'required with STATE_DB_URL: every API process must seal and open the vault with the same key',
      });
  });

export type Config = ReturnType<typeof toConfig>;

function toConfig(env: z.infer<typeof envSchema>) {
  return {
    port: env.PORT,
    /** The address the API and the embedded run's servers listen on; loopback unless asked otherwise. */
    host: env.HOST ?? '127.0.0.1',
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TASK_QUEUE,
      uiPort: env.TEMPORAL_UI_PORT,
      bin: env.TEMPORAL_BIN,
      testServerBin: env.TEMPORAL_TEST_SERVER_BIN,
    },
    dataDir: path.resolve(env.DATA_DIR),
    /** Documents and archives: in S3 when DOCUMENTS_URL is set, else under DATA_DIR/documents. */
    documents: env.DOCUMENTS_URL
      ? {
          ...env.DOCUMENTS_URL,
          ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
            ? {
                credentials: {
                  accessKeyId: env.AWS_ACCESS_KEY_ID,
                  secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
                },
              }
            : {}),
        }
      : null,
    /** The ledger, the vault records and the failed link attempts: in PostgreSQL when set, else under DATA_DIR and in memory. */
    stateDbUrl: env.STATE_DB_URL ?? null,
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    apiKeys: env.API_KEYS ?? [],
    logLevel: env.LOG_LEVEL,
    bodyLimit: env.BODY_LIMIT,
    /** The two requests that carry thousands of items: a start with its scope, a bulk task completion. */
    bulkBodyLimit: env.BULK_BODY_LIMIT,
    /** Set by the embedded run: the API then serves the local mailbox at /mailbox. */
    mailboxDir: env.MAILBOX_DIR,
    /** HMAC keys of email links `id:base64,…` (or one plain base64), newest last; unset, one is generated into DATA_DIR/keys (see links.ts). */
    linkSecret: env.LINK_SECRET,
    /** AES-256 keys of the vault `id:base64,…` (or one plain base64), newest last; unset, one is generated into DATA_DIR/keys. */
    vaultKey: env.VAULT_KEY,
    /** Payload codec keys `id:base64,…`, newest last; unset, one is generated into DATA_DIR/keys. */
    codecKeys: env.CODEC_KEYS,
    /** Origin of the Temporal Web UI allowed to call the codec endpoint from the browser. */
    webUiOrigin: env.WEB_UI_ORIGIN,
    /** The worker's build, recorded on every workflow task it completes; defaults to the package version. */
    buildId: env.BUILD_ID ?? `${packageVersion}-dev`,
    /** The workflow code bundled ahead of time (production); unset, each worker bundles it at start. */
    workflowBundle: env.WORKFLOW_BUNDLE,
    /** The MSP as clients see it on pages, emails and certificates. */
    msp: { name: env.MSP_NAME, address: env.MSP_ADDRESS, contact: env.MSP_CONTACT },
    /**
     * How much history a run gathers before it continues as new at its next step boundary; unset,
     * the workflow's own default (5,000 events, 5 MB).
     */
    historyBudget:
      env.HISTORY_BUDGET_EVENTS || env.HISTORY_BUDGET_MB
        ? {
            events: env.HISTORY_BUDGET_EVENTS ?? defaultHistoryBudget.events,
            bytes: env.HISTORY_BUDGET_MB
              ? Math.round(env.HISTORY_BUDGET_MB * 1024 * 1024)
              : defaultHistoryBudget.bytes,
          }
        : undefined,
    /** The shortest reminderInterval a request may ask for: each reminder is an email to every approver. */
    minReminderInterval: env.MIN_REMINDER_INTERVAL,
  };
}

/** Never echoed in an error message. */
const secretVariables = new Set([
  'API_KEYS',
  'LINK_SECRET',
  'VAULT_KEY',
  'CODEC_KEYS',
  'AWS_SECRET_ACCESS_KEY',
  // It may carry the database password.
  'STATE_DB_URL',
]);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once; throws a ConfigError whose message is one line naming each bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? 'environment');
      const raw = env[variable];
      const shown = raw === undefined || secretVariables.has(variable) ? '' : ` (got "${raw}")`;
      return `${variable}: ${issue.message}${shown}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return toConfig(result.data);
}

/** For process entry points: parse or print the one-line reason and exit 1. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
