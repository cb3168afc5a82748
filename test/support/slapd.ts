// Debian's OpenLDAP server for the tests: a slapd of its own on a free loopback port, its config and
// database in a temp dir, with a small tree (dc=example,dc=test, ou=people) and an admin. Entries are
// added and binds checked with OpenLDAP's own command-line tools, apart from the code under test.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from './ports.js';

const run = promisify(execFile);

export interface TestSlapd {
  url: string;
  baseDn: string;
  adminDn: string;
  adminPassword: string;
  /** Adds `uid=<fresh name>,ou=people,<base>` with `password`; answers its DN. */
  addUser(password: string): Promise<string>;
  /** Whether `dn` binds with `password`, asked with `ldapwhoami`. */
  binds(dn: string, password: string): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startSlapd(): Promise<TestSlapd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'runbook-slapd-'));
  mkdirSync(path.join(dir, 'db'));
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const baseDn = 'dc=example,dc=test';
  const adminDn = `cn=admin,${baseDn}`;
  const adminPassword = randomBytes(12).toString('base64url');
  writeFileSync(
    path.join(dir, 'slapd.conf'),
    [
      ...['core', 'cosine', 'inetorgperson', 'nis'].map(
        (schema) => `include /etc/ldap/schema/${schema}.schema`,
      ),
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${path.join(dir, 'slapd.pid')}`,
      'database mdb',
      'maxsize 10485760',
      `suffix "${baseDn}"`,
      `rootdn "${adminDn}"`,
      `rootpw ${adminPassword}`,
      `directory ${path.join(dir, 'db')}`,
      'access to attrs=userPassword by self write by anonymous auth by * none',
      'access to * by * read',
      '',
    ].join('\n'),
  );
  const daemon: ChildProcess = spawn(
    '/usr/sbin/slapd',
    ['-d', '0', '-h', `${url}/`, '-f', path.join(dir, 'slapd.conf')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  daemon.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  await waitForPort(port, 10_000, () => daemon.exitCode === null && daemon.signalCode === null).catch(
    (error: Error) => {
      throw new Error(`${error.message}\n${log}`);
    },
  );

  const add = async (ldif: string) => {
    const child = run('ldapadd', ['-x', '-H', url, '-D', adminDn, '-w', adminPassword]);
    child.child.stdin!.end(ldif);
    await child;
  };
  await add(
    [
      `dn: ${baseDn}`,
      'objectClass: dcObject',
      'objectClass: organization',
      'dc: example',
      'o: Example',
      '',
      `dn: ou=people,${baseDn}`,
      'objectClass: organizationalUnit',
      'ou: people',
      '',
    ].join('\n'),
  );

  return {
    url,
    baseDn,
    adminDn,
    adminPassword,
    async addUser(password) {
      const uid = `user-${randomBytes(4).toString('hex')}`;
      const dn = `uid=${uid},ou=people,${baseDn}`;
      await add(
        [
          `dn: ${dn}`,
          'objectClass: inetOrgPerson',
          `uid: ${uid}`,
          `cn: ${uid}`,
          `sn: ${uid}`,
          `userPassword: ${password}`,
          '',
        ].join('\n'),
      );
      return dn;
    },
    async binds(dn, password) {
      try {
        await run('ldapwhoami', ['-x', '-H', url, '-D', dn, '-w', password]);
        return true;
      } catch (error) {
        if ((error as { code?: number }).code === 49) return false;
        throw error;
      }
    },
    async stop() {
      if (daemon.exitCode === null && daemon.signalCode === null) {
        const exited = new Promise((resolve) => daemon.once('exit', resolve));
        daemon.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
