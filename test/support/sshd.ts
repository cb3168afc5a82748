// Debian's OpenSSH server for the tests: an sshd of its own on a free loopback port, with a throwaway
// host key, its config and its users' homes in a temp dir. It runs as root (as the tests do): only
// root's sshd can log in other users, and the account rotation and revocation tests need real
// accounts. Nothing outside the temp dir is touched but the accounts it adds and removes again.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, waitForPort } from './ports.js';
import { processTree } from './processes.js';

export interface TestSshd {
  port: number;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it. */
  hostKey: string;
  /** The private key (OpenSSH format) root logs in with: the MSP's connection secret. */
  clientKey: string;
  dir: string;
  /** Agent commands that install, remove and check a marker under the temp dir. */
  agentCommands(agent: string): { install: string; uninstall: string; check: string };
  /** Whether the agent's marker is installed, seen from the file system (not through SSH). */
  agentInstalled(agent: string): boolean;
  /** Adds a local account with `password` whose `authorized_keys` holds the MSP's key; removed by `stop`. */
  addUser(password: string): string;
  /** Kills sshd and its sessions: the host goes down. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

function run(command: string, args: string[], input?: string): string {
  return execFileSync(command, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Starts sshd; call `stop()` after the tests. */
export async function startSshd(): Promise<TestSshd> {
  if (process.getuid?.() !== 0) throw new Error('the sshd tests run as root (they add local accounts)');
  const dir = mkdtempSync(path.join(tmpdir(), 'runbook-sshd-'));
  // The test accounts' homes are below: sshd reads their authorized_keys as them.
  chmodSync(dir, 0o755);
  const hostKeyFile = path.join(dir, 'host_ed25519');
  const clientKeyFile = path.join(dir, 'client_ed25519');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-host', '-f', hostKeyFile]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'msp', '-f', clientKeyFile]);
  const clientPublicKey = readFileSync(`${clientKeyFile}.pub`, 'utf8');
  mkdirSync(path.join(dir, 'authorized'));
  writeFileSync(path.join(dir, 'authorized', 'root'), clientPublicKey);
  mkdirSync(path.join(dir, 'agents'));
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeyFile}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      // The users' own keys, and root's from the temp dir (this machine's root keys stay out of it).
      `AuthorizedKeysFile .ssh/authorized_keys ${path.join(dir, 'authorized')}/%u`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const users: string[] = [];
  let daemon: ChildProcess | undefined;

  async function launch(): Promise<void> {
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    daemon = child;
    await waitForPort(port, 10_000, () => child.exitCode === null && child.signalCode === null).catch(
      (error: Error) => {
        throw new Error(`${error.message}\n${log}`);
      },
    );
  }

  /** Kills sshd and every session it forked, as a host that loses power drops its connections. */
  async function kill(): Promise<void> {
    const child = daemon;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    for (const found of processTree(child.pid).reverse()) process.kill(found.pid, 'SIGKILL');
    await exited;
  }

  await launch();
  const hostKey = run('ssh-keygen', ['-lf', `${hostKeyFile}.pub`]).split(' ')[1]!;
  const marker = (agent: string) => path.join(dir, 'agents', agent);
  return {
    port,
    hostKey,
    clientKey: readFileSync(clientKeyFile, 'utf8'),
    dir,
    agentCommands: (agent) => ({
      install: `touch ${marker(agent)}`,
      uninstall: `rm -f ${marker(agent)}`,
      check: `test -e ${marker(agent)}`,
    }),
    agentInstalled: (agent) => {
      try {
        readFileSync(marker(agent));
        return true;
      } catch {
        return false;
      }
    },
    addUser(password) {
      const name = `rb${randomBytes(4).toString('hex')}`;
      const home = path.join(dir, 'home', name);
      mkdirSync(path.dirname(home), { recursive: true });
      run('useradd', ['--create-home', '--home-dir', home, '--shell', '/bin/sh', name]);
      users.push(name);
      run('chpasswd', [], `${name}:${password}\n`);
      mkdirSync(path.join(home, '.ssh'), { recursive: true });
      writeFileSync(path.join(home, '.ssh', 'authorized_keys'), clientPublicKey);
      return name;
    },
    kill,
    async stop() {
      await kill();
      for (const name of users) run('userdel', ['--force', name]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
