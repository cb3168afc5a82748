import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalVault, localVaultRecords } from '../../connectors/vault/local.js';
import { loadVaultKeys } from '../../connectors/vault/vault-keys.js';
import { VaultError } from '../../connectors/vault/port.js';
import { describeVaultKeyUsage, rekeyVault, vaultKeyUsage } from '../../connectors/vault/rekey.js';
import { createSealer } from '../../connectors/vault/sealing.js';
import { npmRun, rekeyKilledAfter } from '../support/rekey.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const crashScript = path.join(repoRoot, 'test/support/vault-crash.ts');
const id = 'offboarding-acme/credential-rotation/domain-admin';
const idDir = (vaultDir: string) => path.join(vaultDir, id.replaceAll('/', '~'));

let tmp: string;
let vaultDir: string;
let key: Buffer;
/** The one key, as a plain VAULT_KEY gives it. */
let keys: { id: string; key: Buffer }[];

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'vault-test-'));
  vaultDir = path.join(tmp, 'vault');
  key = randomBytes(32);
  keys = [{ id: 'v0', key }];
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Every file below `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(full) : Promise.resolve([full]);
    }),
  );
  return nested.flat();
}

/** The VaultError a promise rejects with (fails the test if it resolves or throws something else). */
async function vaultError(promise: Promise<unknown>): Promise<VaultError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VaultError);
  return error as VaultError;
}

function runCrashingPut(vaultId: string, secret: string) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', crashScript, vaultDir, vaultId], {
        cwd: repoRoot,
        env: { ...process.env, VAULT_KEY: key.toString('base64'), VAULT_SECRET: secret },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve({ code, signal, stderr }));
    },
  );
}

describe('local vault', () => {
  it('stores versions, reads the latest or a given one, and lists them oldest first', async () => {
    const vault = createLocalVault(vaultDir, keys);
    const first = await vault.put(id, 'Winter2026!');
    const second = await vault.put(id, 'Spring2026!');

    expect(first).toMatchObject({ vaultId: id, version: 1 });
    expect(second).toMatchObject({ vaultId: id, version: 2 });
    expect(first.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(second.fingerprint).not.toBe(first.fingerprint);

    expect(await vault.get(id)).toEqual({ ref: second, secret: 'Spring2026!' });
    expect(await vault.get(id, 1)).toEqual({ ref: first, secret: 'Winter2026!' });
    expect(await vault.list(id)).toEqual([first, second]);
    expect(await vault.list('offboarding-acme/other')).toEqual([]);
  });

  it('gives the same secret the same fingerprint under one key, and another under another key', async () => {
    const vault = createLocalVault(vaultDir, keys);
    const a = await vault.put('client-a/admin', 'Winter2026!');
    const b = await vault.put('client-b/admin', 'Winter2026!');
    expect(b.fingerprint).toBe(a.fingerprint);

    const other = createLocalVault(path.join(tmp, 'other'), [{ id: 'v0', key: randomBytes(32) }]);
    expect((await other.put('client-a/admin', 'Winter2026!')).fingerprint).not.toBe(a.fingerprint);
  });

  it('keeps secrets encrypted at rest, in private files and directories', async () => {
    const secret = 'Tr0ub4dor&3-correct-horse';
    const vault = createLocalVault(vaultDir, keys);
    await vault.put(id, secret);
    await vault.put(id, secret);

    const files = await filesUnder(vaultDir);
    expect(files.map((file) => path.basename(file)).sort()).toEqual(['v000001.json', 'v000002.json']);
    for (const file of files) {
      const bytes = await readFile(file);
      expect(bytes.includes(Buffer.from(secret))).toBe(false);
      expect(bytes.includes(key)).toBe(false);
      expect(bytes.includes(Buffer.from(key.toString('base64')))).toBe(false);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(Object.keys(JSON.parse(bytes.toString('utf8')) as object).sort()).toEqual(
        ['ciphertext', 'createdAt', 'fingerprint', 'iv', 'keyId', 'tag', 'version'].sort(),
      );
    }
    expect((await stat(vaultDir)).mode & 0o777).toBe(0o700);
    expect((await stat(idDir(vaultDir))).mode & 0o777).toBe(0o700);
  });

  it('fails a version with a flipped ciphertext byte as corrupt, and still reads the others', async () => {
    const vault = createLocalVault(vaultDir, keys);
    await vault.put(id, 'first-secret');
    await vault.put(id, 'second-secret');
    const file = path.join(idDir(vaultDir), 'v000001.json');
    const stored = JSON.parse(await readFile(file, 'utf8')) as { ciphertext: string };
    const ciphertext = Buffer.from(stored.ciphertext, 'base64');
    ciphertext[0]! ^= 0x01;
    await writeFile(file, JSON.stringify({ ...stored, ciphertext: ciphertext.toString('base64') }));

    const error = await vaultError(vault.get(id, 1));
    expect(error.code).toBe('corrupt');
    expect(error.message).toContain(`vault entry ${id} v1 failed its integrity check`);
    expect(error.message).not.toContain('first-secret');
    expect((await vault.get(id, 2)).secret).toBe('second-secret');
    expect((await vault.get(id)).secret).toBe('second-secret');
    expect((await vaultError(vault.list(id))).code).toBe('corrupt');
  });

  it('fails a file that is not valid JSON, or has an edited fingerprint, as corrupt', async () => {
    const vault = createLocalVault(vaultDir, keys);
    await vault.put(id, 'first-secret');
    await vault.put(id, 'second-secret');
    const first = path.join(idDir(vaultDir), 'v000001.json');
    const second = path.join(idDir(vaultDir), 'v000002.json');

    const bytes = await readFile(first);
    bytes[0]! ^= 0xff;
    await writeFile(first, bytes);
    expect((await vaultError(vault.get(id, 1))).message).toMatch(
      /v1 failed its integrity check \(not valid JSON\)/,
    );

    const stored = JSON.parse(await readFile(second, 'utf8')) as { fingerprint: string };
    await writeFile(second, JSON.stringify({ ...stored, fingerprint: '0000000000000000' }));
    expect((await vaultError(vault.get(id, 2))).code).toBe('corrupt');
  });

  it('refuses a version file copied to another id or another version', async () => {
    const vault = createLocalVault(vaultDir, keys);
    await vault.put(id, 'domain-admin-secret');
    await vault.put('offboarding-acme/credential-rotation/backup-admin', 'backup-secret');
    const entry = await readFile(path.join(idDir(vaultDir), 'v000001.json'));

    await writeFile(
      path.join(vaultDir, 'offboarding-acme~credential-rotation~backup-admin', 'v000002.json'),
      entry,
    );
    const moved = await vaultError(vault.get('offboarding-acme/credential-rotation/backup-admin', 2));
    expect(moved.code).toBe('corrupt');

    // Same id, renumbered, with its version field edited to match: the authenticated version differs.
    const stored = JSON.parse(entry.toString('utf8')) as { version: number };
    await writeFile(path.join(idDir(vaultDir), 'v000002.json'), JSON.stringify({ ...stored, version: 2 }));
    expect((await vaultError(vault.get(id, 2))).code).toBe('corrupt');
  });

  it('refuses another key as corrupt', async () => {
    await createLocalVault(vaultDir, keys).put(id, 'domain-admin-secret');
    const error = await vaultError(createLocalVault(vaultDir, [{ id: 'v0', key: randomBytes(32) }]).get(id));
    expect(error.code).toBe('corrupt');
    expect(error.message).toContain('vault key');
  });

  it('answers not-found for an unknown id or version', async () => {
    const vault = createLocalVault(vaultDir, keys);
    expect((await vaultError(vault.get(id))).code).toBe('not-found');
    await vault.put(id, 'domain-admin-secret');
    expect((await vaultError(vault.get(id, 2))).code).toBe('not-found');
    expect((await vaultError(vault.get(id, 0))).code).toBe('not-found');
    expect((await vaultError(vault.get(id, 1.5))).code).toBe('not-found');
  });

  it('rejects invalid ids without echoing them', async () => {
    const vault = createLocalVault(vaultDir, keys);
    const invalid = ['../x', 'A', '', 'a/../b', '/a', 'a/', 'a//b', '.a', 'a b', 'a'.repeat(201)];
    for (const bad of invalid) {
      for (const attempt of [vault.put(bad, 'secret'), vault.get(bad), vault.list(bad)]) {
        const error = await vaultError(attempt);
        expect(error.code).toBe('invalid-id');
        if (bad) expect(error.message).not.toContain(bad);
      }
    }
    expect((await vault.put('a'.repeat(200), 'secret')).version).toBe(1);
    expect(await readdir(vaultDir)).toEqual(['a'.repeat(200)]);
  });

  it('gives two concurrent puts to one id versions 1 and 2', async () => {
    // Two vault instances over one directory, as two processes would have.
    const one = createLocalVault(vaultDir, keys);
    const two = createLocalVault(vaultDir, keys);
    const refs = await Promise.all([one.put(id, 'from-one'), two.put(id, 'from-two')]);
    expect(refs.map((ref) => ref.version).sort()).toEqual([1, 2]);
    for (const [ref, secret] of [
      [refs[0]!, 'from-one'],
      [refs[1]!, 'from-two'],
    ] as const)
      expect((await one.get(id, ref.version)).secret).toBe(secret);
    expect((await one.list(id)).map((ref) => ref.version)).toEqual([1, 2]);
    expect(await readdir(idDir(vaultDir))).toEqual(['v000001.json', 'v000002.json']);
  });

  it('gives many concurrent puts distinct consecutive versions', async () => {
    const vault = createLocalVault(vaultDir, keys);
    const refs = await Promise.all(Array.from({ length: 8 }, (_, i) => vault.put(id, `secret-${i}`)));
    expect(refs.map((ref) => ref.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const [i, ref] of refs.entries())
      expect((await vault.get(id, ref.version)).secret).toBe(`secret-${i}`);
  });

  it('leaves the previous version readable after a crash between write and publish', async () => {
    const vault = createLocalVault(vaultDir, keys);
    const before = await vault.put(id, 'old-secret');

    const child = await runCrashingPut(id, 'new-secret');
    expect(child, child.stderr).toMatchObject({ code: null, signal: 'SIGKILL' });
    // The crash left its synced temp file behind, unpublished.
    const names = await readdir(idDir(vaultDir));
    expect(names.filter((name) => name.startsWith('.tmp-'))).toHaveLength(1);
    expect(names.filter((name) => !name.startsWith('.tmp-'))).toEqual(['v000001.json']);

    expect(await vault.get(id)).toEqual({ ref: before, secret: 'old-secret' });
    expect(await vault.list(id)).toEqual([before]);
    const after = await vault.put(id, 'newer-secret');
    expect(after.version).toBe(2);
    expect(await vault.get(id)).toEqual({ ref: after, secret: 'newer-secret' });
    expect(await vault.list(id)).toEqual([before, after]);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createLocalVault(vaultDir, [{ id: 'v1', key: randomBytes(16) }])).toThrow(/32 bytes/);
  });
});

describe('rotating the vault key', () => {
  const newer = { id: 'v1', key: randomBytes(32) };
  const versionFileOf = (version: number) => path.join(idDir(vaultDir), `v00000${version}.json`);
  const keyIdIn = async (version: number) =>
    (JSON.parse(await readFile(versionFileOf(version), 'utf8')) as { keyId?: string }).keyId;
  const listed = (list: { id: string; key: Buffer }[]) =>
    list.map((each) => (each.id === 'v0' ? '' : `${each.id}:`) + each.key.toString('base64')).join(',');

  /** Two versions under the plain key: the first as written before versions named their key. */
  async function versionsUnderTheOldKey() {
    const vault = createLocalVault(vaultDir, keys);
    await vault.put(id, 'before-key-ids');
    await vault.put(id, 'under-v0');
    const { keyId: _dropped, ...unnamed } = JSON.parse(await readFile(versionFileOf(1), 'utf8')) as {
      keyId: string;
    };
    await writeFile(versionFileOf(1), JSON.stringify(unnamed));
    return vault.list(id);
  }

  it('opens old versions with the old key, seals new ones with the newest, rekeys them all, then works without the old key', async () => {
    const before = await versionsUnderTheOldKey();
    const rotated = createLocalVault(vaultDir, [...keys, newer]);
    expect((await rotated.get(id, 1)).secret).toBe('before-key-ids');
    expect((await rotated.get(id, 2)).secret).toBe('under-v0');
    const third = await rotated.put(id, 'under-v1');
    expect(await keyIdIn(3)).toBe('v1');
    expect(await vaultKeyUsage(localVaultRecords(vaultDir))).toEqual({
      versions: new Map([
        ['v0', 2],
        ['v1', 1],
      ]),
      unreadable: [],
    });

    const rekey = await npmRun('vault:rekey', { DATA_DIR: tmp, VAULT_KEY: listed([...keys, newer]) });
    expect(rekey, rekey.stderr).toMatchObject({ code: 0 });
    expect(rekey.stdout).toContain('re-sealed 2 version(s) under vault key v1');
    expect(rekey.stdout).toContain(
      'vault key v0: 0 version(s), configured, needed by no version: may be removed',
    );
    expect(rekey.stdout).toContain('vault key v1: 3 version(s), configured, the newest');
    expect([await keyIdIn(1), await keyIdIn(2)]).toEqual(['v1', 'v1']);
    // The references workflows and documents hold stay true: same versions, times, fingerprints.
    expect(await rotated.list(id)).toEqual([...before, third]);
    expect(await readdir(idDir(vaultDir))).toEqual(['v000001.json', 'v000002.json', 'v000003.json']);

    const again = await npmRun('vault:rekey', { DATA_DIR: tmp, VAULT_KEY: listed([...keys, newer]) });
    expect(again.stdout).toContain('re-sealed 0 version(s)');

    const withoutOld = createLocalVault(vaultDir, [newer]);
    expect(
      await Promise.all([1, 2, 3].map(async (version) => (await withoutOld.get(id, version)).secret)),
    ).toEqual(['before-key-ids', 'under-v0', 'under-v1']);
    const missing = await vaultError(createLocalVault(vaultDir, keys).get(id, 1));
    expect(missing.code).toBe('key-missing');
    expect(missing.message).toMatch(
      /sealed under vault key "v1", which VAULT_KEY does not list \(listed: v0\)/,
    );
    expect(missing.message).not.toContain(newer.key.toString('base64'));
  });

  it('keeps the old key needed while a version cannot be re-sealed, naming the version', async () => {
    await versionsUnderTheOldKey();
    const stored = JSON.parse(await readFile(versionFileOf(2), 'utf8')) as { ciphertext: string };
    await writeFile(
      versionFileOf(2),
      JSON.stringify({ ...stored, ciphertext: Buffer.alloc(12).toString('base64') }),
    );
    const usage = await rekeyVault(localVaultRecords(vaultDir), createSealer([...keys, newer]));
    expect(usage.unreadable).toEqual([
      expect.stringContaining(`vault entry ${id} v2 failed its integrity check`),
    ]);
    const report = describeVaultKeyUsage(usage, ['v0', 'v1']);
    expect(report.ok).toBe(false);
    expect(report.lines).toContain(
      'vault key v0: 1 version(s), configured, still needed: run `npm run vault:rekey`',
    );
    expect(await keyIdIn(1)).toBe('v1');
  });

  it('leaves every version readable when the rekey is killed half-way, and the next run finishes it', async () => {
    await versionsUnderTheOldKey();
    const env = { DATA_DIR: tmp, VAULT_KEY: listed([...keys, newer]) };
    const killed = await rekeyKilledAfter(1, env);
    expect(killed, killed.stderr).toMatchObject({ signal: 'SIGKILL' });
    expect([await keyIdIn(1), await keyIdIn(2)].sort()).toEqual(['v0', 'v1']);
    const rotated = createLocalVault(vaultDir, [...keys, newer]);
    expect((await rotated.get(id, 1)).secret).toBe('before-key-ids');
    expect((await rotated.get(id, 2)).secret).toBe('under-v0');

    const dropping = await npmRun('keys:check', { DATA_DIR: tmp, VAULT_KEY: listed([newer]) });
    expect(dropping).toMatchObject({
      code: 1,
      stdout: expect.stringContaining('vault key v0: 1 version(s), NOT CONFIGURED'),
    });

    const finished = await npmRun('vault:rekey', env);
    expect(finished.stdout).toContain('re-sealed 1 version(s) under vault key v1');
    const check = await npmRun('keys:check', env);
    expect(check, check.stderr).toMatchObject({ code: 0 });
    expect(check.stdout).toContain(
      'vault key v0: 0 version(s), configured, needed by no version: may be removed',
    );
    expect((await createLocalVault(vaultDir, [newer]).get(id, 1)).secret).toBe('before-key-ids');
  });
});

describe('loadVaultKeys', () => {
  it('creates DATA_DIR/keys/vault-key once, 0600 in a 0700 directory, and returns it again as key v0', async () => {
    const [first, ...more] = await loadVaultKeys(tmp);
    expect(more).toEqual([]);
    expect(first!.id).toBe('v0');
    expect(first!.key).toHaveLength(32);
    const file = path.join(tmp, 'keys', 'vault-key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64')).toEqual(first!.key);
    expect(await loadVaultKeys(tmp)).toEqual([first]);
    expect(await readdir(path.dirname(file))).toEqual(['vault-key']);
  });

  it('gives processes starting together one key', async () => {
    const lists = await Promise.all(Array.from({ length: 6 }, () => loadVaultKeys(tmp)));
    for (const each of lists) expect(each).toEqual(lists[0]);
    expect(await readdir(path.join(tmp, 'keys'))).toEqual(['vault-key']);
  });

  it('refuses a key file of the wrong length', async () => {
    await loadVaultKeys(tmp);
    await writeFile(path.join(tmp, 'keys', 'vault-key'), randomBytes(16).toString('base64'));
    await expect(loadVaultKeys(tmp)).rejects.toThrow(/vault-key holds 16 bytes; expected 32/);
  });

  it('takes VAULT_KEY when set, without touching DATA_DIR: one plain value is key v0', async () => {
    expect(await loadVaultKeys(tmp, key.toString('base64'))).toEqual([{ id: 'v0', key }]);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('takes a list, newest last; an entry without an id is v0', async () => {
    const newer = randomBytes(32);
    const expected = [
      { id: 'v0', key },
      { id: 'v1', key: newer },
    ];
    expect(await loadVaultKeys(tmp, `v0:${key.toString('base64')},v1:${newer.toString('base64')}`)).toEqual(
      expected,
    );
    expect(await loadVaultKeys(tmp, ` ${key.toString('base64')} , v1:${newer.toString('base64')}`)).toEqual(
      expected,
    );
  });

  it('refuses a VAULT_KEY with a bad entry, naming each without echoing any key', async () => {
    const good = key.toString('base64');
    const short = randomBytes(16).toString('base64');
    for (const [bad, message] of [
      ['not base64!', /^VAULT_KEY: entry 1 \(key "v0"\) is not base64$/],
      [short, /^VAULT_KEY: entry 1 \(key "v0"\) decodes to 16 bytes; expected 32/],
      [randomBytes(33).toString('base64'), /^VAULT_KEY: entry 1 \(key "v0"\) decodes to 33 bytes/],
      [
        `v1:${good},v1:${randomBytes(32).toString('base64')}`,
        /^VAULT_KEY: entry 2: key id "v1" appears more than once$/,
      ],
      [
        `${good},v0:${randomBytes(32).toString('base64')}`,
        /entry 2: key id "v0" appears more than once \(an entry without an id is "v0"\)/,
      ],
      [`V 1:${good}`, /^VAULT_KEY: entry 1 has an invalid key id/],
      [
        `v1:${short},v2:${randomBytes(33).toString('base64')}`,
        /^VAULT_KEY: entry 1 \(key "v1"\) decodes to 16 bytes.*; VAULT_KEY: entry 2 \(key "v2"\) decodes to 33 bytes/,
      ],
      [' , ', /^VAULT_KEY: no keys/],
    ] as const) {
      const error = await loadVaultKeys(tmp, bad).then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
      expect(error?.message).toMatch(message);
      for (const material of [good, short]) expect(error?.message).not.toContain(material);
    }
  });
});
