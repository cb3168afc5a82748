// The `ssh` adapter of the hosts port (docs/design.md §8): every change runs over SSH to a host whose
// key is pinned by its SHA-256 fingerprint (never trusted on first use), and every change is checked
// afterwards. Each operation opens its own short connection, so nothing is left open between steps.
import { createHash } from 'node:crypto';
// ssh2 is CommonJS: Node's ESM loader gives its exports only as the default export.
import ssh2, { type Client as SshClient, type ConnectConfig } from 'ssh2';
import { connectorFailureTypes, type CommandRun, type Verification } from '../../domain/automation.js';
import {
  ConnectorError,
  authRefused,
  hostKeyMismatch,
  notConfigured,
  unreachable,
  verificationFailed,
} from '../failures.js';
import type { SshSettings } from '../connections/settings.js';
import type { Host, HostOutcome } from './port.js';

export interface SshOptions {
  /** How long a connection may take to be ready (default 15 s). */
  connectTimeoutMs?: number;
  /** How long one command may run (default 5 minutes): an agent installer can be slow. */
  commandTimeoutMs?: number;
}

/** Output kept per stream to digest and to quote in an error; the rest is counted, not kept. */
const maxOutputBytes = 1 << 20;
const accountName = /^[a-z_][a-z0-9_.-]{0,31}$/i;

/** `value` as one word for the remote shell, whatever it holds (a home directory is the host's to name). */
function shellWord(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The fingerprint `ssh-keygen -lf` prints for a host key: `SHA256:` and unpadded base64. */
export function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** A private key (OpenSSH or PEM, unencrypted) when the secret looks like one, else a password. */
export function sshLogin(secret: string): { privateKey: string } | { password: string } {
  if (!/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(secret.trim())) return { password: secret };
  const parsed = ssh2.utils.parseKey(secret);
  if (parsed instanceof Error)
    throw notConfigured(
      `the private key cannot be used: ${parsed.message} (an encrypted key is not supported)`,
    );
  return { privateKey: secret };
}

interface Exec {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** One logged-in connection, recording each command and check as evidence. */
class Session {
  readonly commands: CommandRun[] = [];
  readonly verifications: Verification[] = [];

  constructor(
    private readonly client: SshClient,
    private readonly target: string,
    private readonly commandTimeoutMs: number,
  ) {}

  /** Runs `command` (with `stdin`, e.g. a password, never on the command line) and records it as `label`. */
  async run(command: string, options: { stdin?: string; label?: string } = {}): Promise<Exec> {
    const result = await new Promise<Exec>((resolve, reject) => {
      const failed = (message: string) => reject(unreachable(`${this.target}: ${message}`));
      this.client.exec(command, (error, stream) => {
        if (error) return failed(`cannot run a command: ${error.message}`);
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const keep = (into: Buffer[]) => (chunk: Buffer) => {
          if (into.reduce((sum, part) => sum + part.length, 0) < maxOutputBytes) into.push(chunk);
        };
        const timer = setTimeout(() => {
          stream.close();
          failed(`a command ran longer than ${this.commandTimeoutMs / 1000} s`);
        }, this.commandTimeoutMs);
        stream.on('data', keep(out));
        stream.stderr.on('data', keep(err));
        stream.on('close', (code: number | null | undefined) => {
          clearTimeout(timer);
          // No exit status: the connection went away before the command finished.
          if (typeof code !== 'number') return failed('the connection closed while a command ran');
          resolve({
            exitCode: code,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          });
        });
        stream.end(options.stdin ?? '');
      });
    });
    this.commands.push({
      command: options.label ?? command,
      exitCode: result.exitCode,
      outputSha256: createHash('sha256').update(result.stdout).update(result.stderr).digest('hex'),
      at: new Date().toISOString(),
    });
    return result;
  }

  verify(what: string, passed: boolean, detail?: string): boolean {
    this.verifications.push({ what, passed, at: new Date().toISOString(), ...(detail ? { detail } : {}) });
    return passed;
  }
}

/** The last line a failed command printed, short, to name the failure without keeping the output. */
function lastWords(exec: Exec): string {
  const line = (exec.stderr.trim() || exec.stdout.trim()).split('\n').pop() ?? '';
  return line ? `: ${line.slice(0, 200)}` : '';
}

/** The host at `settings`, reached as `settings.username` with `secret` (a private key or a password). */
export function createSshHost(
  connection: { id: string; settings: SshSettings },
  secret: string,
  options: SshOptions = {},
): Host {
  const { settings } = connection;
  const target = `${settings.host}:${settings.port}`;
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  const commandTimeoutMs = options.commandTimeoutMs ?? 300_000;
  const privileged = (command: string) => (settings.username === 'root' ? command : `sudo -n ${command}`);

  /** Logs in as `username`; a host key other than the pinned one stops before any credential is sent. */
  function connect(username: string, login: ConnectConfig): Promise<SshClient> {
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      let presented: string | undefined;
      client.once('ready', () => resolve(client));
      client.once('error', (error: Error & { level?: string }) => {
        client.end();
        if (presented !== undefined && presented !== settings.hostKey)
          reject(
            hostKeyMismatch(
              `${target} presented host key ${presented}, not the pinned ${settings.hostKey}: nothing was sent to it`,
            ),
          );
        else if (error.level === 'client-authentication')
          reject(authRefused(`${target} refused the login of ${username}`));
        else reject(unreachable(`cannot reach ${target}: ${error.message}`));
      });
      client.connect({
        host: settings.host,
        port: settings.port,
        username,
        ...login,
        readyTimeout: connectTimeoutMs,
        tryKeyboard: false,
        hostVerifier: (key: Buffer) => {
          presented = sshFingerprint(key);
          return presented === settings.hostKey;
        },
      });
    });
  }

  /** Runs `work` in a session logged in with the connection's own credential, and gathers its evidence. */
  async function session(
    work: (session: Session) => Promise<void>,
    facts?: Record<string, string>,
  ): Promise<HostOutcome> {
    const startedAt = new Date().toISOString();
    const client = await connect(settings.username, sshLogin(secret));
    const current = new Session(client, target, commandTimeoutMs);
    try {
      await work(current);
    } finally {
      client.end();
    }
    return {
      connector: 'ssh',
      connection: connection.id,
      target,
      commands: current.commands,
      verifications: current.verifications,
      ...(facts ? { facts } : {}),
      startedAt,
      finishedAt: new Date().toISOString(),
    };
  }

  /** Whether `username` can log in with `secret`: a real attempt, closed at once when it succeeds. */
  async function logsIn(
    username: string,
    login: { privateKey: string } | { password: string },
  ): Promise<boolean> {
    try {
      (await connect(username, login)).end();
      return true;
    } catch (error) {
      if (error instanceof ConnectorError && error.type === connectorFailureTypes.authRefused) return false;
      throw error;
    }
  }

  function commandsOf(agents: readonly string[]) {
    const missing = agents.filter((agent) => !settings.agents[agent as keyof SshSettings['agents']]);
    if (missing.length > 0)
      throw notConfigured(
        `connection ${connection.id} has no install, uninstall and check commands for ${missing.join(', ')}`,
      );
    return agents.map((agent) => ({ agent, ...settings.agents[agent as keyof SshSettings['agents']]! }));
  }

  /** Brings each agent to `installed` (or not) and checks it: the shared shape of deploy and removal. */
  async function converge(agents: readonly string[], installed: boolean): Promise<HostOutcome> {
    const steps = commandsOf(agents);
    return session(async (current) => {
      for (const step of steps) {
        const before = await current.run(step.check);
        if ((before.exitCode === 0) !== installed) {
          const change = installed ? step.install : step.uninstall;
          const ran = await current.run(change);
          if (ran.exitCode !== 0)
            throw verificationFailed(
              `${installed ? 'install' : 'uninstall'} of ${step.agent} on ${target} exited ${ran.exitCode}${lastWords(ran)}`,
            );
        }
        const after = await current.run(step.check);
        const what = installed
          ? `${step.agent} check exits 0 (installed)`
          : `${step.agent} check fails (removed)`;
        if (!current.verify(what, (after.exitCode === 0) === installed, `exit ${after.exitCode}`))
          throw verificationFailed(
            `on ${target} ${step.agent} check exited ${after.exitCode} after the ${installed ? 'install' : 'uninstall'}`,
          );
      }
    });
  }

  function checkedAccount(account: string): string {
    if (!accountName.test(account)) throw notConfigured(`"${account}" is not a local account name`);
    return account;
  }

  return {
    async check() {
      const client = await connect(settings.username, sshLogin(secret));
      try {
        const current = new Session(client, target, commandTimeoutMs);
        const name = (await current.run('uname -n')).stdout.trim();
        return {
          detail: `logged in to ${target} as ${settings.username} (host key ${settings.hostKey} matched); the host calls itself ${name}`,
        };
      } finally {
        client.end();
      }
    },

    deployAgents: (agents) => converge(agents, true),
    removeAgents: (agents) => converge(agents, false),

    async discover() {
      const facts: Record<string, string> = {};
      return session(async (current) => {
        facts.hostname = (await current.run('hostname -f 2>/dev/null || hostname')).stdout.trim();
        facts.os = (
          await current.run('. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME" || uname -sr')
        ).stdout.trim();
        const seconds = Number.parseFloat((await current.run('cat /proc/uptime')).stdout);
        facts.uptime = Number.isFinite(seconds)
          ? `${Math.floor(seconds / 86400)}d ${Math.floor((seconds % 86400) / 3600)}h`
          : 'unknown';
        const passing: string[] = [];
        for (const [agent, commands] of Object.entries(settings.agents))
          if ((await current.run(commands!.check)).exitCode === 0) passing.push(agent);
        facts.agents = passing.join(', ');
      }, facts);
    },

    async rotatePassword(account, newPassword, previousPassword) {
      const name = checkedAccount(account);
      const outcome = await session(async (current) => {
        const set = await current.run(privileged('chpasswd'), {
          stdin: `${name}:${newPassword}\n`,
          label: `${privileged('chpasswd')} (the new password of ${name} on stdin)`,
        });
        if (set.exitCode !== 0)
          throw verificationFailed(
            `chpasswd for ${name} on ${target} exited ${set.exitCode}${lastWords(set)}`,
          );
      });
      await verifyLogins(outcome, name, {
        expected: true,
        password: newPassword,
        what: 'new password logs in',
      });
      if (previousPassword !== undefined)
        await verifyLogins(outcome, name, {
          expected: false,
          password: previousPassword,
          what: 'previous password refused',
        });
      return outcome;
    },

    async revokeAccount(account, previousPassword) {
      const name = checkedAccount(account);
      const outcome = await session(async (current) => {
        const home = (await current.run(`getent passwd ${name} | cut -d: -f6`)).stdout.trim();
        if (!home) throw notConfigured(`${target} has no account ${name}`);
        const keys = shellWord(`${home}/.ssh/authorized_keys`);
        await current.run(privileged(`rm -f -- ${keys}`));
        const lock = await current.run(privileged(`usermod --lock --expiredate 1 ${name}`));
        if (lock.exitCode !== 0)
          throw verificationFailed(
            `usermod for ${name} on ${target} exited ${lock.exitCode}${lastWords(lock)}`,
          );
        // Ends the account's sessions; exits 1 when it has none, which is fine.
        await current.run(privileged(`pkill -KILL -u ${name}`));
        const status = (await current.run(privileged(`passwd --status ${name}`))).stdout.split(/\s+/)[1];
        current.verify('password locked', status === 'L', `passwd --status: ${status ?? 'nothing'}`);
        const gone = await current.run(privileged(`test ! -e ${keys}`));
        current.verify('authorized_keys removed', gone.exitCode === 0);
      });
      const failed = outcome.verifications.find((check) => !check.passed);
      if (failed)
        throw verificationFailed(
          `on ${target}, for ${name}: "${failed.what}" did not hold (${failed.detail ?? ''})`,
        );
      await verifyLogins(outcome, name, {
        expected: false,
        ...sshLogin(secret),
        what: `login as ${name} with the MSP's own credential refused`,
      });
      if (previousPassword !== undefined)
        await verifyLogins(outcome, name, {
          expected: false,
          password: previousPassword,
          what: 'previous password refused',
        });
      return outcome;
    },
  };

  /** A login attempt as `account` that must succeed (`expected`) or be refused; fails the operation otherwise. */
  async function verifyLogins(
    outcome: HostOutcome,
    account: string,
    attempt: ({ privateKey: string } | { password: string }) & { expected: boolean; what: string },
  ): Promise<void> {
    const { expected, what, ...login } = attempt;
    const accepted = await logsIn(account, login);
    const passed = accepted === expected;
    outcome.verifications.push({
      what,
      passed,
      at: new Date().toISOString(),
      detail: accepted ? 'login accepted' : 'login refused',
    });
    outcome.finishedAt = new Date().toISOString();
    if (!passed)
      throw verificationFailed(
        `on ${target}, for ${account}: "${what}" did not hold (${accepted ? 'login accepted' : 'login refused'})`,
      );
  }
}
