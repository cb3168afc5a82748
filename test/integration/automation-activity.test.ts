// The automation activity with the real vault, connection store, sshd and slapd: one call works a
// chunk of assets, each through its connection, and answers a small outcome per asset; a broken one
// comes back with its error after its retries, never failing the rest.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAutomationActivities } from '../../activities/automation.js';
import { createFilesystemConnectionStore } from '../../connectors/connections/filesystem.js';
import type { Connection, ConnectionStore } from '../../connectors/connections/port.js';
import { createLocalVault } from '../../connectors/vault/local.js';
import type { Vault } from '../../connectors/vault/port.js';
import {
  connectorFailureTypes,
  type AutomateAssetsInput,
  type AutomationItem,
  type AutomationOutcome,
} from '../../domain/automation.js';
import { freePort } from '../support/ports.js';
import { startSlapd, type TestSlapd } from '../support/slapd.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

let dir: string;
let sshd: TestSshd;
let slapd: TestSlapd;
let vault: Vault;
let connections: ConnectionStore;
let automateAssets: ReturnType<typeof createAutomationActivities>['automateAssets'];

async function addConnection(
  connection: Omit<Connection, 'secretRef' | 'createdAt' | 'createdBy'>,
  secret: string,
) {
  const secretRef = await vault.put(`connections/${connection.id}`, secret);
  await connections.create({
    ...connection,
    secretRef,
    createdAt: new Date().toISOString(),
    createdBy: 'test',
  } as Connection);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'automation-'));
  [sshd, slapd] = await Promise.all([startSshd(), startSlapd()]);
  vault = createLocalVault(path.join(dir, 'vault'), [{ id: 'v1', key: randomBytes(32) }]);
  connections = createFilesystemConnectionStore(path.join(dir, 'connections'));
  ({ automateAssets } = createAutomationActivities({ vault, connections, retryDelaysMs: [10, 10] }));
  const ssh = { host: '127.0.0.1', port: sshd.port, username: 'root', hostKey: sshd.hostKey };
  const agents = { rmm: sshd.agentCommands('rmm'), backup: sshd.agentCommands('backup') };
  await addConnection(
    { id: 'srv-01', type: 'ssh', clientId: 'acme', settings: { ...ssh, agents } },
    sshd.clientKey,
  );
  await addConnection(
    {
      id: 'srv-wrong-key',
      type: 'ssh',
      clientId: 'acme',
      settings: { ...ssh, agents, hostKey: `SHA256:${'C'.repeat(43)}` },
    },
    sshd.clientKey,
  );
  await addConnection(
    { id: 'srv-down', type: 'ssh', clientId: 'acme', settings: { ...ssh, agents, port: await freePort() } },
    sshd.clientKey,
  );
  await addConnection(
    { id: 'other-client', type: 'ssh', clientId: 'globex', settings: { ...ssh, agents } },
    sshd.clientKey,
  );
  await addConnection(
    { id: 'srv-refused', type: 'ssh', clientId: 'acme', settings: { ...ssh, agents } },
    'not-the-password',
  );
  await addConnection(
    {
      id: 'acme-ldap',
      type: 'ldap',
      clientId: 'acme',
      settings: { url: slapd.url, bindDn: slapd.adminDn, baseDn: slapd.baseDn, startTls: false },
    },
    slapd.adminPassword,
  );
});

afterAll(async () => {
  await Promise.all([sshd?.stop(), slapd?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const runId = randomUUID();
const run = (step: string, items: AutomationItem[]) => {
  const input: AutomateAssetsInput = {
    audit: { v: 1, event: 'automation' },
    transitionId: 'offboarding-acme',
    clientId: 'acme',
    step,
    items,
  };
  return new MockActivityEnvironment({ workflowExecution: { workflowId: 'offboarding-acme', runId } }).run(
    automateAssets,
    input,
  ) as Promise<AutomationOutcome[]>;
};

describe('automateAssets', () => {
  it('removes agents from a device and falls back with the error for each broken one', async () => {
    await run('agent-deployment', [
      {
        assetId: 'srv-01',
        connector: 'ssh',
        connection: 'srv-01',
        action: 'deploy-agents',
        agents: ['rmm', 'backup'],
      },
    ]);
    expect(sshd.agentInstalled('rmm')).toBe(true);

    const outcomes = await run('agent-removal', [
      {
        assetId: 'srv-01',
        connector: 'ssh',
        connection: 'srv-01',
        action: 'remove-agents',
        agents: ['rmm', 'backup'],
      },
      {
        assetId: 'srv-02',
        connector: 'ssh',
        connection: 'srv-wrong-key',
        action: 'remove-agents',
        agents: ['rmm'],
      },
      {
        assetId: 'srv-03',
        connector: 'ssh',
        connection: 'srv-down',
        action: 'remove-agents',
        agents: ['rmm'],
      },
      {
        assetId: 'srv-04',
        connector: 'ssh',
        connection: 'no-such',
        action: 'remove-agents',
        agents: ['rmm'],
      },
      {
        assetId: 'srv-05',
        connector: 'ssh',
        connection: 'other-client',
        action: 'remove-agents',
        agents: ['rmm'],
      },
      {
        assetId: 'srv-06',
        connector: 'ldap',
        connection: 'srv-01',
        action: 'remove-agents',
        agents: ['rmm'],
      },
      {
        assetId: 'srv-07',
        connector: 'ssh',
        connection: 'srv-refused',
        action: 'remove-agents',
        agents: ['rmm'],
      },
    ]);
    expect(sshd.agentInstalled('rmm') || sshd.agentInstalled('backup')).toBe(false);
    expect(outcomes[0]).toMatchObject({ assetId: 'srv-01', ok: true });
    expect(
      outcomes.slice(1).map((outcome) => (outcome.ok ? 'ok' : [outcome.errorType, outcome.attempts])),
    ).toEqual([
      [connectorFailureTypes.hostKeyMismatch, 1],
      [connectorFailureTypes.unreachable, 3],
      [connectorFailureTypes.notConfigured, 1],
      [connectorFailureTypes.notConfigured, 1],
      [connectorFailureTypes.notConfigured, 1],
      [connectorFailureTypes.authRefused, 1],
    ]);
  });

  it('discovers a device and flags a host name that disagrees with the scope', async () => {
    const [outcome] = await run('discovery', [
      {
        assetId: 'srv-01',
        connector: 'ssh',
        connection: 'srv-01',
        action: 'discover',
        hostname: 'srv-99.acme.local',
      },
    ]);
    expect(outcome?.ok).toBe(true);
    if (!outcome?.ok) return;
    expect(outcome.evidence.facts?.os).toMatch(/Debian/);
    expect(outcome.evidence.verifications).toContainEqual(
      expect.objectContaining({ what: 'host name agrees with the scope (srv-99.acme.local)', passed: false }),
    );
  });

  it('rotates a directory password into the vault: new binds, the one vaulted at onboarding is refused, a retry sets the same one', async () => {
    const dn = await slapd.addUser('onboarded-1');
    await vault.put('onboarding-acme/credential-vaulting/shared-admin', 'onboarded-1');
    const item: AutomationItem = {
      assetId: 'shared-admin',
      connector: 'ldap',
      connection: 'acme-ldap',
      action: 'rotate-password',
      account: dn,
    };
    const [first] = await run('credential-rotation', [item]);
    expect(first?.ok).toBe(true);
    if (!first?.ok) return;
    const reference = first.evidence.secret!;
    const { secret } = await vault.get(reference.vaultId, reference.version);
    expect(await slapd.binds(dn, secret)).toBe(true);
    expect(await slapd.binds(dn, 'onboarded-1')).toBe(false);
    expect(first.evidence.verifications.map((check) => check.what)).toEqual([
      'new password binds',
      'previous password refused',
    ]);
    expect(JSON.stringify(first)).not.toContain(secret);

    const [again] = await run('credential-rotation', [item]);
    expect(again?.ok && again.evidence.secret).toEqual(reference);
    expect(await slapd.binds(dn, secret)).toBe(true);
  });

  it('rotates and revokes local accounts over ssh, each checked by a login attempt', async () => {
    const shared = sshd.addUser('local-old-1');
    const msp = sshd.addUser('msp-local-1');
    await vault.put('onboarding-acme/credential-vaulting/local-admin', 'local-old-1');
    await vault.put('onboarding-acme/credential-vaulting/msp-local', 'msp-local-1');
    const [rotated, revoked] = await run('credential-rotation', [
      {
        assetId: 'local-admin',
        connector: 'ssh',
        connection: 'srv-01',
        action: 'rotate-password',
        account: shared,
      },
      {
        assetId: 'msp-local',
        connector: 'ssh',
        connection: 'srv-01',
        action: 'revoke-account',
        account: msp,
      },
    ]);
    expect(rotated?.ok && rotated.evidence.verifications.map((check) => [check.what, check.passed])).toEqual([
      ['new password logs in', true],
      ['previous password refused', true],
    ]);
    expect(revoked?.ok && revoked.evidence.verifications.every((check) => check.passed)).toBe(true);
    expect(revoked?.ok && revoked.evidence.verifications.map((check) => check.what)).toContain(
      'previous password refused',
    );
  });

  it('disables an MSP account in the directory', async () => {
    const dn = await slapd.addUser('msp-tech-1');
    const [outcome] = await run('credential-rotation', [
      {
        assetId: 'msp-tech',
        connector: 'ldap',
        connection: 'acme-ldap',
        action: 'revoke-account',
        account: dn,
      },
    ]);
    expect(outcome?.ok).toBe(true);
    expect(await slapd.binds(dn, 'msp-tech-1')).toBe(false);
  });
});
