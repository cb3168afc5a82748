// What an automated connector did to one asset and how it verified it: the structured evidence that
// the workflow keeps and the step's document shows. Small on purpose (a digest of each output, never
// the output itself), so thousands of assets stay far under Temporal's payload limits. No Node
// imports: the workflow sandbox loads this file.
import type { RestoreEvidence, SanitizationEvidence, SecretReference } from './definitions.js';

/** A command the connector ran (an agent's install, a `chpasswd`), its exit code and a digest of its output. */
export interface CommandRun {
  /** The command as configured; a secret is never part of it (passwords go on stdin). */
  command: string;
  exitCode: number | null;
  /** SHA-256 (hex) of stdout then stderr, so the output can be matched to a log without being kept. */
  outputSha256: string;
  at: string;
}

/** One object an export put in the destination bucket, as the manifest lists it: verified after upload. */
export interface ExportedObject {
  /** `s3://<bucket>/<key>`. */
  location: string;
  bytes: number;
  sha256: string;
  uploadedAt: string;
  /** When it was read back and its size and SHA-256 matched. */
  verifiedAt: string;
}

/** A check the connector made after its change and what it found. */
export interface Verification {
  /** What was checked, in words: "`rmm` check exits non-zero", "old password refused". */
  what: string;
  passed: boolean;
  at: string;
  detail?: string;
}

/** Everything one asset's automation leaves behind. */
export interface AutomationEvidence {
  connector: string;
  connection: string;
  /** What the connector reached: `host:port` or the directory URL. */
  target: string;
  commands: CommandRun[];
  verifications: Verification[];
  /** Facts a discovery collected (hostname, OS, uptime, agents whose checks pass). */
  facts?: Record<string, string>;
  /** The new secret's vault reference, for a rotation. */
  secret?: SecretReference;
  /** A restore test's times and integrity check, which the restore validation report reads. */
  restore?: RestoreEvidence;
  /** What an export put in the destination, for the data export manifest. */
  objects?: ExportedObject[];
  /** A deletion's NIST SP 800-88 record, which the certificate of deletion reads. */
  sanitization?: SanitizationEvidence;
  startedAt: string;
  finishedAt: string;
}

/** A data set written to a local file by its connector (pg_dump, restic dump), before its upload. */
export interface DumpRecord {
  /** The file name the export gets in the destination. */
  name: string;
  commands: CommandRun[];
  verifications: Verification[];
  facts: Record<string, string>;
}

/**
 * Why an automation failed, as the connectors name it. `auth-refused`, `host-key-mismatch` and
 * `not-configured` cannot be fixed by a retry (non-retryable); the others may pass on the next try.
 */
export const connectorFailureTypes = {
  authRefused: 'ConnectorAuthRefused',
  hostKeyMismatch: 'ConnectorHostKeyMismatch',
  notConfigured: 'ConnectorNotConfigured',
  verificationFailed: 'ConnectorVerificationFailed',
  unreachable: 'ConnectorUnreachable',
} as const;
export type ConnectorFailureType = (typeof connectorFailureTypes)[keyof typeof connectorFailureTypes];

/** The failure types a retry cannot fix: the activity's retry policy lists them as non-retryable. */
export const permanentConnectorFailures: readonly ConnectorFailureType[] = [
  connectorFailureTypes.authRefused,
  connectorFailureTypes.hostKeyMismatch,
  connectorFailureTypes.notConfigured,
];

/** What an automated connector does to an asset. */
export type AutomationAction =
  | 'deploy-agents'
  | 'remove-agents'
  | 'discover'
  | 'rotate-password'
  | 'revoke-account'
  | 'validate-restore'
  | 'export-data'
  | 'delete-data';

/** Where a data set or a backup job lives in its system, beyond what the connection says. */
export interface DataSource {
  /** A PostgreSQL database (default: the connection's). */
  database?: string;
  /** S3: the retained objects' prefix, under the connection's. */
  prefix?: string;
  /** restic: only the snapshots of this host, with this tag, of these paths. */
  host?: string;
  tag?: string;
  paths?: string[];
}

/** One asset's automation: which connection reaches it and what to do there. */
export interface AutomationItem {
  assetId: string;
  /** The connector the scope names: the connection must be of this type. */
  connector: string;
  connection: string;
  action: AutomationAction;
  /** Agents to deploy or remove. */
  agents?: string[];
  /** The account (local user name or DN) to rotate or revoke. */
  account?: string;
  /** The host name the scope gives, which discovery compares with what the host says. */
  hostname?: string;
  /** The data set or backup job to restore, export or delete. */
  source?: DataSource;
  /** Where an export goes: an `s3` connection and the prefix under it. */
  destination?: { connection: string; prefix: string };
}

/** A chunk of one step's assets, run in one activity call. */
export interface AutomateAssetsInput {
  audit: { v: 1; event: 'automation' };
  transitionId: string;
  clientId: string;
  step: string;
  items: AutomationItem[];
}

/** How one asset came out: its evidence, or the error after the connector's retries. */
export type AutomationOutcome =
  | { assetId: string; ok: true; evidence: AutomationEvidence }
  | { assetId: string; ok: false; errorType: string; error: string; attempts: number; at: string };
