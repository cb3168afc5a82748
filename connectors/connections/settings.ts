// A connection's settings by type (docs/design.md §8): every field validated, unknown fields refused.
// The secret is validated here too but never stored with the settings: it goes to the vault.
import { z } from 'zod';
import { agentKinds, multiLine, oneLine } from '../../domain/schemas.js';

export const connectionId = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'expected a slug: lowercase letters, digits and -');

const hostName = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:_-]+$/, 'expected a host name or an IP address');
const command = z.string().trim().min(1).max(2000).check(multiLine);

/** What the runbook runs on a host for one agent; `check` exits 0 while the agent is installed. */
const agentCommands = z.strictObject({ install: command, uninstall: command, check: command });

export const sshSettings = z.strictObject({
  host: hostName,
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, 'expected a user name: letters, digits, _ . -'),
  hostKey: z
    .string()
    .regex(
      /^SHA256:[A-Za-z0-9+/]{43}$/,
      'expected the host key fingerprint as ssh-keygen -lf prints it: SHA256: and 43 base64 characters (no trust on first use)',
    ),
  agents: z.partialRecord(z.enum(agentKinds), agentCommands).default({}),
});

export const ldapSettings = z.strictObject({
  url: z.url({ protocol: /^ldaps?$/, error: 'expected an ldap:// or ldaps:// URL' }).max(500),
  bindDn: z.string().trim().min(1).max(500).check(oneLine),
  baseDn: z.string().trim().min(1).max(500).check(oneLine),
  startTls: z.boolean().default(false),
});

/** A PostgreSQL role the runbook logs in as, and the database it connects to first. */
export const postgresSettings = z.strictObject({
  host: hostName,
  port: z.number().int().min(1).max(65535).default(5432),
  database: z.string().trim().min(1).max(63).check(oneLine),
  user: z.string().trim().min(1).max(63).check(oneLine),
});

/** A restic repository: a local path, or an `s3:` URL whose keys another connection holds. */
export const resticSettings = z.strictObject({
  repository: z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .check(oneLine)
    .refine((value) => value.startsWith('/') || value.startsWith('s3:'), {
      message: 'expected an absolute path or an s3: URL',
    }),
  s3Connection: connectionId.optional(),
});

/** An S3 bucket (any S3-compatible server), reached with an access key whose secret is vaulted. */
export const s3Settings = z.strictObject({
  endpoint: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).max(500),
  region: z.string().trim().min(1).max(64).check(oneLine),
  bucket: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'expected an S3 bucket name: 3-63 lowercase letters, digits, . and -',
    ),
  prefix: z.string().max(500).check(oneLine).optional(),
  accessKeyId: z.string().trim().min(1).max(200).check(oneLine),
  forcePathStyle: z.boolean().default(false),
});

export type SshSettings = z.infer<typeof sshSettings>;
export type PostgresSettings = z.infer<typeof postgresSettings>;
export type ResticSettings = z.infer<typeof resticSettings>;
export type S3Settings = z.infer<typeof s3Settings>;
export type LdapSettings = z.infer<typeof ldapSettings>;

// Not trimmed: spaces can be part of a password, and a private key ends with a newline.
const secret = z.string().min(1, 'the secret is empty').max(16384);

const clientId = connectionId.optional();

/** The body of POST /v1/connections, one shape per connection type. */
export const connectionRequest = z.discriminatedUnion('type', [
  z.strictObject({ id: connectionId, type: z.literal('ssh'), clientId, settings: sshSettings, secret }),
  z.strictObject({ id: connectionId, type: z.literal('ldap'), clientId, settings: ldapSettings, secret }),
  z.strictObject({
    id: connectionId,
    type: z.literal('postgres'),
    clientId,
    settings: postgresSettings,
    secret,
  }),
  z.strictObject({ id: connectionId, type: z.literal('restic'), clientId, settings: resticSettings, secret }),
  z.strictObject({ id: connectionId, type: z.literal('s3'), clientId, settings: s3Settings, secret }),
]);
export type ConnectionRequest = z.infer<typeof connectionRequest>;
export type ConnectionType = ConnectionRequest['type'];
export const connectionTypes = connectionRequest.options.map((option) => option.shape.type.value);
