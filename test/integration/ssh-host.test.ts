// The ssh adapter against Debian's real sshd on loopback: pinned host keys, agents installed and
// removed with their checks, discovery, and local accounts rotated and revoked, each verified by a
// login attempt of our own.
import { execFileSync } from 'node:child_process';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFailureTypes } from '../../domain/automation.js';
import { ConnectorError } from '../../connectors/failures.js';
import { createSshHost } from '../../connectors/hosts/ssh.js';
import type { SshSettings } from '../../connectors/connections/settings.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

let sshd: TestSshd;

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
});

function settings(overrides: Partial<SshSettings> = {}): SshSettings {
  return {
    host: '127.0.0.1',
    port: sshd.port,
    username: 'root',
    hostKey: sshd.hostKey,
    agents: { rmm: sshd.agentCommands('rmm'), backup: sshd.agentCommands('backup') },
    ...overrides,
  };
}

const host = (overrides: Partial<SshSettings> = {}, secret = sshd.clientKey) =>
  createSshHost({ id: 'srv-01-ssh', settings: settings(overrides) }, secret, { connectTimeoutMs: 5000 });

async function failureOf(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

/** Our own login attempt, apart from the adapter: does `user` get in with `password`? */
function logsIn(user: string, password: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once('ready', () => {
      client.end();
      resolve(true);
    });
    client.once('error', (error: Error & { level?: string }) =>
      error.level === 'client-authentication' ? resolve(false) : reject(error),
    );
    client.connect({
      host: '127.0.0.1',
      port: sshd.port,
      username: user,
      password,
      hostVerifier: () => true,
    });
  });
}

describe('the ssh adapter', () => {
  it('checks a connection with a real login and names the host', async () => {
    const { detail } = await host().check();
    expect(detail).toContain(`127.0.0.1:${sshd.port}`);
    expect(detail).toContain(execFileSync('uname', ['-n'], { encoding: 'utf8' }).trim());
  });

  it('stops at a host key other than the pinned one, without logging in', async () => {
    const error = await failureOf(host({ hostKey: `SHA256:${'A'.repeat(43)}` }).check());
    expect(error.type).toBe(connectorFailureTypes.hostKeyMismatch);
    expect(error.message).toContain(sshd.hostKey);
  });

  it('names a refused login as such', async () => {
    const error = await failureOf(host({}, 'not-the-password').check());
    expect(error.type).toBe(connectorFailureTypes.authRefused);
  });

  it('installs agents until their checks pass, and removes them until their checks fail', async () => {
    const deployed = await host().deployAgents(['rmm', 'backup']);
    expect(sshd.agentInstalled('rmm') && sshd.agentInstalled('backup')).toBe(true);
    expect(deployed.verifications.map((check) => [check.what, check.passed])).toEqual([
      ['rmm check exits 0 (installed)', true],
      ['backup check exits 0 (installed)', true],
    ]);
    expect(deployed.commands.map((run) => [run.command, run.exitCode])).toContainEqual([
      sshd.agentCommands('rmm').install,
      0,
    ]);

    const again = await host().deployAgents(['rmm']);
    expect(again.commands.map((run) => run.command)).not.toContain(sshd.agentCommands('rmm').install);

    const removed = await host().removeAgents(['rmm', 'backup']);
    expect(sshd.agentInstalled('rmm') || sshd.agentInstalled('backup')).toBe(false);
    expect(removed.verifications.every((check) => check.passed)).toBe(true);
    expect(
      removed.commands.find((run) => run.command === sshd.agentCommands('rmm').check)?.outputSha256,
    ).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses an agent the connection has no commands for, before running anything', async () => {
    const error = await failureOf(host().deployAgents(['rmm', 'edr']));
    expect(error.type).toBe(connectorFailureTypes.notConfigured);
    expect(error.message).toContain('edr');
    expect(sshd.agentInstalled('rmm')).toBe(false);
  });

  it('fails an install whose check still fails afterwards', async () => {
    const broken = { ...sshd.agentCommands('monitoring'), install: 'true' };
    const error = await failureOf(host({ agents: { monitoring: broken } }).deployAgents(['monitoring']));
    expect(error.type).toBe(connectorFailureTypes.verificationFailed);
  });

  it('discovers the hostname, the OS, the uptime and which agents are installed', async () => {
    await host().deployAgents(['backup']);
    const { facts } = await host().discover();
    expect(facts?.hostname).toBe(execFileSync('hostname', ['-f'], { encoding: 'utf8' }).trim());
    expect(facts?.os).toMatch(/Debian/);
    expect(facts?.uptime).toMatch(/^\d+d \d+h$/);
    expect(facts?.agents).toBe('backup');
    await host().removeAgents(['backup']);
  });

  it('rotates a local password: the new one logs in, the old one is refused', async () => {
    const user = sshd.addUser('old-password-1');
    const outcome = await host().rotatePassword(user, 'new-password-1', 'old-password-1');
    expect(await logsIn(user, 'new-password-1')).toBe(true);
    expect(await logsIn(user, 'old-password-1')).toBe(false);
    expect(outcome.verifications.map((check) => [check.what, check.passed])).toEqual([
      ['new password logs in', true],
      ['previous password refused', true],
    ]);
    expect(JSON.stringify(outcome)).not.toContain('new-password-1');
  });

  it('revokes a local account: locked, keys gone, and a login with its key or password refused', async () => {
    const user = sshd.addUser('still-works-1');
    const asUser = createSshHost({ id: 'as-user', settings: settings({ username: user }) }, sshd.clientKey);
    await asUser.check();
    const outcome = await host().revokeAccount(user, 'still-works-1');
    expect(await logsIn(user, 'still-works-1')).toBe(false);
    expect((await failureOf(asUser.check())).type).toBe(connectorFailureTypes.authRefused);
    expect(execFileSync('passwd', ['--status', user], { encoding: 'utf8' }).split(' ')[1]).toBe('L');
    expect(outcome.verifications.every((check) => check.passed)).toBe(true);
    expect(outcome.verifications.map((check) => check.what)).toContain('previous password refused');
  });

  it('names a host that goes down mid-command as unreachable (a retry may pass)', async () => {
    const slow = { install: 'sleep 30', uninstall: 'true', check: 'false' };
    const running = failureOf(host({ agents: { edr: slow } }).deployAgents(['edr']));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await sshd.kill();
    const error = await running;
    expect(error.type).toBe(connectorFailureTypes.unreachable);
  });
});
