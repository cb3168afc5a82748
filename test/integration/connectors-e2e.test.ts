// The runbook doing the work itself, end to end over HTTP: connections added through the API, an
// offboarding whose devices name the ssh connector (Debian's sshd on loopback) and whose credentials
// name the ldap connector (Debian's slapd), and an onboarding that deploys agents the same way. What
// the connectors claim is checked apart from them: marker files on the host, binds with ldapwhoami.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalVault } from '../../connectors/vault/local.js';
import { loadVaultKeys } from '../../connectors/vault/vault-keys.js';
import type { TaskState, TransitionState } from '../../domain/definitions.js';
import { offboardingBody, uniqueClientId } from '../factories.js';
import { csrfIn, linkIn, postForm } from '../support/links.js';
import { startSlapd, type TestSlapd } from '../support/slapd.js';
import { startSshd, type TestSshd } from '../support/sshd.js';
import { auditorKey, startStack, waitForState, type Stack } from '../support/stack.js';

let stack: Stack;
let sshd: TestSshd;
let slapd: TestSlapd;

beforeAll(async () => {
  [stack, sshd, slapd] = await Promise.all([startStack(), startSshd(), startSlapd()]);
}, 180_000);

afterAll(async () => {
  await Promise.all([stack?.stop(), sshd?.stop(), slapd?.stop()]);
});

async function addConnection(body: Record<string, unknown>) {
  const response = await stack.call('POST', '/v1/connections', body);
  expect(response.status, await response.clone().text()).toBe(201);
}

function sshConnection(id: string, clientId: string, hostKey = sshd.hostKey) {
  return {
    id,
    type: 'ssh',
    clientId,
    settings: {
      host: '127.0.0.1',
      port: sshd.port,
      username: 'root',
      hostKey,
      agents: { rmm: sshd.agentCommands('rmm'), backup: sshd.agentCommands('backup') },
    },
    secret: sshd.clientKey,
  };
}

/** Every task of the run, open or not (the state lists only the first open ones). */
async function tasksOf(id: string): Promise<TaskState[]> {
  const response = await stack.call('GET', `/v1/transitions/${id}/tasks?limit=100`, undefined, auditorKey);
  expect(response.status).toBe(200);
  return ((await response.json()) as { tasks: TaskState[] }).tasks;
}

async function documentText(id: string, docId: string): Promise<string> {
  const response = await stack.call('GET', `/v1/transitions/${id}/documents/${docId}`, undefined, auditorKey);
  expect(response.status).toBe(200);
  return response.text();
}

describe('connectors in a running offboarding', () => {
  it('removes agents and rotates and revokes directory credentials by itself, verified; a broken connection falls back to a person until fixed', async () => {
    const clientId = uniqueClientId('acme');
    for (const agent of ['rmm', 'backup']) execFileSync('sh', ['-c', sshd.agentCommands(agent).install]);
    await addConnection(sshConnection(`${clientId}-srv-01`, clientId));
    await addConnection(sshConnection(`${clientId}-srv-02`, clientId, `SHA256:${'D'.repeat(43)}`));
    await addConnection({
      id: `${clientId}-ldap`,
      type: 'ldap',
      clientId,
      settings: { url: slapd.url, bindDn: slapd.adminDn, baseDn: slapd.baseDn },
      secret: slapd.adminPassword,
    });
    const shared = await slapd.addUser('shared-old-1');
    const mspAccount = await slapd.addUser('msp-tech-1');
    // The shared account's password as the client's onboarding vaulted it: what the rotation must refuse.
    const vault = createLocalVault(path.join(stack.dataDir, 'vault'), await loadVaultKeys(stack.dataDir));
    await vault.put(`onboarding-${clientId}/credential-vaulting/shared-admin`, 'shared-old-1');

    const body = offboardingBody({
      clientId,
      terms: { noticePeriod: 'PT1S', transitionPeriod: 'PT2S', retentionPeriod: 'PT1S' },
      scope: {
        devices: [
          {
            id: 'srv-01',
            hostname: 'srv-01.acme.local',
            type: 'server',
            agents: ['rmm', 'backup'],
            connector: 'ssh',
            connection: `${clientId}-srv-01`,
          },
          {
            id: 'srv-02',
            hostname: 'srv-02.acme.local',
            type: 'server',
            agents: ['rmm'],
            connector: 'ssh',
            connection: `${clientId}-srv-02`,
          },
        ],
        credentials: [
          {
            id: 'shared-admin',
            system: 'OpenLDAP',
            account: shared,
            connector: 'ldap',
            connection: `${clientId}-ldap`,
          },
          {
            id: 'msp-tech',
            system: 'OpenLDAP',
            account: mspAccount,
            connector: 'ldap',
            connection: `${clientId}-ldap`,
            revoke: true,
          },
        ],
      },
      approvalSteps: [],
    });
    const id = `offboarding-${clientId}`;
    expect((await stack.call('POST', '/v1/transitions', body)).status).toBe(201);

    // srv-01 is done by its connector; srv-02's host key is not the pinned one: a task for a person, with why.
    const failed = await waitForState<TransitionState>(stack, id, (current) =>
      current.tasks.some(
        (task) => task.id === 'agent-removal.srv-02' && task.automation?.status === 'failed',
      ),
    );
    const srv02 = failed.tasks.find((task) => task.id === 'agent-removal.srv-02');
    const srv01 = (await tasksOf(id)).find((task) => task.id === 'agent-removal.srv-01');
    expect(srv01).toMatchObject({
      status: 'completed',
      completedBy: 'connector ssh',
      automation: { status: 'passed' },
    });
    expect(sshd.agentInstalled('rmm') || sshd.agentInstalled('backup')).toBe(false);
    expect(srv02).toMatchObject({
      status: 'open',
      automation: { error: { type: 'ConnectorHostKeyMismatch' } },
    });
    const tasksMail = await stack.waitForMail(
      (mail) => mail.subject?.startsWith('Tasks to do: Agent removal') ?? false,
    );
    expect(tasksMail.text).toContain('its ssh connector failed');
    expect(tasksMail.text).not.toContain('agent-removal.srv-01');

    // The operator pins the right key and runs the connector again: it removes the agent by itself.
    execFileSync('sh', ['-c', sshd.agentCommands('rmm').install]);
    expect((await stack.call('DELETE', `/v1/connections/${clientId}-srv-02`)).status).toBe(204);
    await addConnection(sshConnection(`${clientId}-srv-02`, clientId));
    const retried = await stack.call('POST', `/v1/transitions/${id}/tasks/agent-removal.srv-02/retry`);
    expect(retried.status).toBe(202);
    expect((await retried.json()) as object).toMatchObject({
      status: 'open',
      automation: { status: 'running', rounds: 2 },
    });
    await waitForState<TransitionState>(
      stack,
      id,
      (current) => !current.tasks.some((task) => task.id === 'agent-removal.srv-02'),
    );
    const again = await stack.call('POST', `/v1/transitions/${id}/tasks/agent-removal.srv-02/retry`);
    expect(again.status).toBe(409);

    // The rotated credential is handed over by its one-time reveal link.
    const revealMail = await stack.waitForMail(
      (mail) => mail.subject?.startsWith('New credential ready:') ?? false,
      60_000,
    );
    const link = linkIn(revealMail, 'reveal');
    const revealed = await (await postForm(link, { csrf: csrfIn(await (await fetch(link)).text()) })).text();
    const finished = await waitForState<TransitionState>(
      stack,
      id,
      (current) => current.status === 'completed',
      90_000,
    );
    const rotated = finished.credentials.find((credential) => credential.id === 'shared-admin')!;
    const { secret } = await vault.get(rotated.reference!.vaultId, rotated.reference!.version);
    expect(revealed).toContain(secret);
    expect(await slapd.binds(shared, secret)).toBe(true);
    expect(await slapd.binds(shared, 'shared-old-1')).toBe(false);
    expect(await slapd.binds(mspAccount, 'msp-tech-1')).toBe(false);
    expect(sshd.agentInstalled('rmm')).toBe(false);
    const tasks = await tasksOf(id);
    expect(tasks.map((task) => [task.id, task.completedBy])).toEqual([
      ['agent-removal.srv-01', 'connector ssh'],
      ['agent-removal.srv-02', 'connector ssh'],
      ['credential-rotation.shared-admin', 'connector ldap'],
      ['credential-rotation.msp-tech', 'connector ldap'],
    ]);
    expect(finished.credentials.map((credential) => credential.id)).toEqual(['shared-admin']);
    expect(JSON.stringify(finished)).not.toContain(secret);

    const removal = await documentText(id, '04-agent-removal');
    expect(removal).toContain('rmm check fails (removed) | passed');
    expect(removal).toContain('ConnectorHostKeyMismatch');
    expect(removal).toContain(`127.0.0.1:${sshd.port}`);
    const rotation = await documentText(id, '05-credential-rotation');
    for (const check of [
      'new password binds | passed',
      'previous password refused | passed',
      'no password left on the account | passed',
    ])
      expect(rotation).toContain(check);
    expect(rotation).toContain(rotated.reference!.fingerprint);
    expect(rotation).not.toContain(secret);
    const trail = await (
      await stack.call('GET', `/v1/transitions/${id}/audit`, undefined, auditorKey)
    ).text();
    expect(trail).toContain('connector work done and verified');
    expect(trail).toContain('connector run again');
  }, 240_000);
});

describe('connectors in a running onboarding', () => {
  it('discovers the device and deploys the agents by itself, and the documents show the facts and the checks', async () => {
    const clientId = uniqueClientId('bright');
    await addConnection(sshConnection(`${clientId}-srv`, clientId));
    const id = `onboarding-${clientId}`;
    const started = await stack.call('POST', '/v1/transitions', {
      kind: 'onboarding',
      client: { id: clientId, name: 'Bright Smiles Dental', timezone: 'UTC' },
      requestedBy: 'ops@msp.example',
      contacts: {
        approvers: [{ name: 'Riley Chen', email: 'riley@bright.example' }],
        operators: [{ name: 'MSP Ops', email: 'ops@msp.example' }],
      },
      scope: {
        devices: [
          {
            id: 'srv-01',
            hostname: 'srv-01.bright.local',
            type: 'server',
            agents: ['rmm', 'backup'],
            connector: 'ssh',
            connection: `${clientId}-srv`,
          },
        ],
      },
      approvalSteps: [],
    });
    expect(started.status).toBe(201);
    await waitForState<TransitionState>(stack, id, (current) => current.status === 'completed', 90_000);
    expect((await tasksOf(id)).map((task) => [task.id, task.status, task.completedBy])).toEqual([
      ['discovery.srv-01', 'completed', 'connector ssh'],
      ['agent-deployment.srv-01', 'completed', 'connector ssh'],
    ]);
    expect(sshd.agentInstalled('rmm') && sshd.agentInstalled('backup')).toBe(true);
    const report = await documentText(id, '01-discovery');
    expect(report).toMatch(/os `Debian/);
    // The scope says srv-01.bright.local; the host calls itself otherwise: flagged, not failed.
    expect(report).toContain('host name agrees with the scope (srv-01.bright.local) | FAILED');
    const record = await documentText(id, '03-agent-deployment');
    expect(record).toContain('rmm check exits 0 (installed) | passed');
    expect(record).toContain('backup check exits 0 (installed) | passed');
  }, 180_000);
});
