// The automated connectors at work (docs/design.md §8): one call runs a chunk of a step's assets, a few
// at a time, each through the adapter its connection names, and answers a small outcome per asset.
// An asset's failure does not fail the call: it is retried here (unless retrying cannot help) and then
// reported, so the workflow opens a manual task showing the error. Secrets are read from the vault
// here and nowhere else; only vault references leave.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import {
  permanentConnectorFailures,
  type AutomateAssetsInput,
  type AutomationEvidence,
  type AutomationItem,
  type AutomationOutcome,
} from '../domain/automation.js';
import { adapterOf, resticS3Credentials, type Adapter } from '../connectors/connections/adapters.js';
import type { Connection, ConnectionStore } from '../connectors/connections/port.js';
import { ConnectorError, notConfigured } from '../connectors/failures.js';
import { VaultError, type Vault } from '../connectors/vault/port.js';
import { mapBounded } from './bounded.js';
import { currentRun } from './run.js';

export interface AutomationDeps {
  vault: Vault;
  connections: ConnectionStore;
  /** Waits between an asset's attempts; one attempt more than delays (default 2 s, then 8 s). */
  retryDelaysMs?: number[];
}

/** Assets of one chunk worked on at once: enough to overlap slow hosts, few enough for one worker. */
const assetsInParallel = 5;
const heartbeatEveryMs = 5_000;

/** A new password from the CSPRNG: 144 bits, letters, digits, - and _ (safe for chpasswd and LDAP). */
function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** The account a connection logs in as, which a rotation of that account must know the password of. */
function ownAccount(connection: Connection): string | undefined {
  switch (connection.type) {
    case 'ssh':
      return connection.settings.username;
    case 'ldap':
      return connection.settings.bindDn;
    case 'postgres':
      return connection.settings.user;
    case 'restic':
    case 's3':
      return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The password changes of the adapters that keep accounts. */
function accountsOf(adapter: Adapter): {
  rotate: (account: string, password: string, previous?: string) => Promise<AutomationEvidence>;
  revoke: (account: string, previous?: string) => Promise<AutomationEvidence>;
} {
  switch (adapter.type) {
    case 'ssh':
      return {
        rotate: (...args) => adapter.host.rotatePassword(...args),
        revoke: (...args) => adapter.host.revokeAccount(...args),
      };
    case 'ldap':
      return {
        rotate: (...args) => adapter.directory.rotatePassword(...args),
        revoke: (...args) => adapter.directory.disableAccount(...args),
      };
    case 'postgres':
      return {
        rotate: (...args) => adapter.database.rotatePassword(...args),
        revoke: (...args) => adapter.database.disableRole(...args),
      };
    default:
      throw notConfigured(`a ${adapter.type} connection keeps no accounts to rotate or revoke`);
  }
}

export function createAutomationActivities(deps: AutomationDeps) {
  const retryDelaysMs = deps.retryDelaysMs ?? [2_000, 8_000];

  async function connectionOf(
    item: AutomationItem,
    clientId: string,
  ): Promise<{ connection: Connection; secret: string }> {
    const connection = await deps.connections.get(item.connection);
    if (!connection) throw notConfigured(`there is no connection ${item.connection}`);
    if (connection.type !== item.connector)
      throw notConfigured(
        `connection ${item.connection} is of type ${connection.type}, not ${item.connector}`,
      );
    if (connection.clientId !== null && connection.clientId !== clientId)
      throw notConfigured(`connection ${item.connection} belongs to client ${connection.clientId}`);
    try {
      const { secret } = await deps.vault.get(connection.secretRef.vaultId, connection.secretRef.version);
      return { connection, secret };
    } catch (error) {
      if (error instanceof VaultError)
        throw notConfigured(`the secret of connection ${item.connection}: ${error.message}`);
      throw error;
    }
  }

  /**
   * The password the account had before, when the runbook holds it: the connection's own (the account
   * is the one the connection logs in as) or the one vaulted at the client's onboarding.
   */
  async function previousPassword(
    input: AutomateAssetsInput,
    item: AutomationItem,
    connection: Connection,
    secret: string,
  ) {
    const own = ownAccount(connection);
    if (item.account === own && !secret.trimStart().startsWith('-----BEGIN')) return secret;
    try {
      return (await deps.vault.get(`onboarding-${input.clientId}/credential-vaulting/${item.assetId}`))
        .secret;
    } catch (error) {
      if (error instanceof VaultError) return undefined;
      throw error;
    }
  }

  /**
   * The new password of a rotation, made once per (run, step, asset) and kept in the vault before it
   * is set anywhere: a retry sets the same password again instead of losing one.
   */
  async function rotatedPassword(input: AutomateAssetsInput, item: AutomationItem) {
    const { runId } = currentRun();
    const vaultId = `${input.transitionId}/${runId}/${input.step}/${item.assetId}`;
    const existing = await deps.vault.list(vaultId);
    const ref = existing.at(-1) ?? (await deps.vault.put(vaultId, newPassword()));
    const { secret } = await deps.vault.get(vaultId, ref.version);
    return { secret, reference: { vaultId, version: ref.version, fingerprint: ref.fingerprint } };
  }

  /**
   * Dumps a data set to a scratch file (pg_dump, restic dump), uploads it to the destination's
   * bucket and reads it back; the scratch file is removed either way.
   */
  async function exportData(
    input: AutomateAssetsInput,
    item: AutomationItem,
    adapter: Adapter,
  ): Promise<AutomationEvidence> {
    const startedAt = new Date().toISOString();
    const destination = item.destination;
    if (!destination) throw notConfigured('an export names its destination: an s3 connection and a prefix');
    const bucket = await connectionOf(
      { ...item, connector: 's3', connection: destination.connection },
      input.clientId,
    );
    const storage = adapterOf(bucket.connection, bucket.secret);
    if (storage.type !== 's3') throw notConfigured(`connection ${destination.connection} is no s3 bucket`);
    const dir = await mkdtemp(path.join(tmpdir(), 'data-export-'));
    try {
      const file = path.join(dir, 'export');
      const dump =
        adapter.type === 'postgres'
          ? await adapter.database.dump(file, item.source?.database)
          : adapter.type === 'restic'
            ? await adapter.backups.dump(file, item.source)
            : undefined;
      if (!dump) throw notConfigured(`a ${adapter.type} connection cannot export data`);
      Context.current().heartbeat({ assetId: item.assetId, phase: 'uploading the export' });
      const object = await storage.storage.upload(
        `${destination.prefix.replace(/\/+$/, '')}/${dump.name}`,
        file,
      );
      return {
        connector: item.connector,
        connection: item.connection,
        target: object.location,
        commands: dump.commands,
        verifications: [
          ...dump.verifications,
          {
            what: `${object.location} read back: its size and SHA-256 are the manifest's`,
            passed: true,
            at: object.verifiedAt,
            detail: `${object.bytes} bytes, SHA-256 ${object.sha256}`,
          },
        ],
        facts: dump.facts,
        objects: [object],
        startedAt,
        finishedAt: new Date().toISOString(),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function automate(input: AutomateAssetsInput, item: AutomationItem): Promise<AutomationEvidence> {
    const { connection, secret } = await connectionOf(item, input.clientId);
    const context = Context.current();
    const s3Credentials = await resticS3Credentials(connection, (id) =>
      connectionOf({ ...item, connector: 's3', connection: id }, input.clientId),
    );
    // A restore can run for hours: its heartbeats say where it is, and a cancelled activity ends it.
    const adapter = adapterOf(connection, secret, {
      ...(s3Credentials ? { s3Credentials } : {}),
      onProgress: (phase) => context.heartbeat({ assetId: item.assetId, phase }),
      signal: context.cancellationSignal,
    });
    const account = () => item.account ?? '';
    switch (item.action) {
      case 'deploy-agents':
      case 'remove-agents':
      case 'discover': {
        if (adapter.type !== 'ssh') throw notConfigured(`a ${adapter.type} connection cannot ${item.action}`);
        if (item.action === 'discover') {
          const evidence = await adapter.host.discover();
          if (item.hostname) {
            const said = evidence.facts?.hostname ?? '';
            const short = (name: string) => name.toLowerCase().split('.')[0];
            evidence.verifications.push({
              what: `host name agrees with the scope (${item.hostname})`,
              passed: short(said) === short(item.hostname),
              at: new Date().toISOString(),
              detail: `the host says ${said}`,
            });
          }
          return evidence;
        }
        const agents = item.agents ?? [];
        return item.action === 'deploy-agents'
          ? adapter.host.deployAgents(agents)
          : adapter.host.removeAgents(agents);
      }
      case 'rotate-password': {
        const previous = await previousPassword(input, item, connection, secret);
        const rotated = await rotatedPassword(input, item);
        const evidence = await accountsOf(adapter).rotate(account(), rotated.secret, previous);
        return { ...evidence, secret: rotated.reference };
      }
      case 'revoke-account': {
        const previous = await previousPassword(input, item, connection, secret);
        return accountsOf(adapter).revoke(account(), previous);
      }
      case 'delete-data':
        if (adapter.type === 'postgres') return adapter.database.dropDatabase(item.source?.database);
        if (adapter.type === 'restic') return adapter.backups.deleteSnapshots(item.source);
        if (adapter.type === 's3') {
          if (!item.source?.prefix) throw notConfigured('an s3 data set names the prefix of its objects');
          return adapter.storage.deletePrefix(item.source.prefix);
        }
        throw notConfigured(`a ${adapter.type} connection cannot delete data`);
      case 'export-data':
        return exportData(input, item, adapter);
      case 'validate-restore':
        if (adapter.type === 'restic') return adapter.backups.validateRestore(item.source);
        if (adapter.type === 'postgres') return adapter.database.validateRestore();
        throw notConfigured(`a ${adapter.type} connection cannot validate a restore`);
    }
  }

  /** One asset, retried while retrying can help; its outcome either way. */
  async function outcomeOf(input: AutomateAssetsInput, item: AutomationItem): Promise<AutomationOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return { assetId: item.assetId, ok: true, evidence: await automate(input, item) };
      } catch (error) {
        const type = error instanceof ConnectorError ? error.type : 'Error';
        const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
        const permanent = (permanentConnectorFailures as readonly string[]).includes(type);
        const delay = retryDelaysMs[attempt - 1];
        if (permanent || delay === undefined)
          return {
            assetId: item.assetId,
            ok: false,
            errorType: type,
            error: message,
            attempts: attempt,
            at: new Date().toISOString(),
          };
        Context.current().log.warn('connector attempt failed; trying again', {
          assetId: item.assetId,
          type,
          attempt,
        });
        await sleep(delay);
      }
    }
  }

  return {
    /**
     * Runs a chunk of one step's assets through their connectors, a few at a time, heartbeating the
     * count done; answers one outcome per asset, in the items' order.
     */
    async automateAssets(input: AutomateAssetsInput): Promise<AutomationOutcome[]> {
      const context = Context.current();
      let done = 0;
      const beat = setInterval(() => context.heartbeat({ done }), heartbeatEveryMs);
      try {
        return await mapBounded(input.items, assetsInParallel, async (item) => {
          const outcome = await outcomeOf(input, item);
          done++;
          context.heartbeat({ done });
          return outcome;
        });
      } finally {
        clearInterval(beat);
      }
    },
  };
}

export type AutomationActivities = ReturnType<typeof createAutomationActivities>;
