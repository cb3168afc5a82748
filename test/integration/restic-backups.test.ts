// The restic adapter against Debian's real restic and a real repository: the latest snapshot
// restored into scratch, checked and timed, the scratch copy gone; a damaged pack found before
// anything is restored; a client's snapshots forgotten and pruned, others kept. What the evidence
// claims is checked again here with restic itself.
import { readdir } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectorFailureTypes } from '../../domain/automation.js';
import { ConnectorError } from '../../connectors/failures.js';
import { createResticBackups } from '../../connectors/backups/restic.js';
import { createResticRepository, type TestRepository } from '../support/restic.js';

let repo: TestRepository;
let scratchDir: string;

beforeEach(async () => {
  repo = await createResticRepository();
  scratchDir = await mkdtemp(path.join(tmpdir(), 'msp-scratch-'));
});

afterEach(async () => {
  await repo?.remove();
  await rm(scratchDir, { recursive: true, force: true });
});

function backups(secret = repo.password, repository = repo.repository) {
  return createResticBackups({ id: 'acme-backups', settings: { repository } }, secret, { scratchDir });
}

async function failureOf(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('the restic adapter', () => {
  it('checks a connection by opening the repository', async () => {
    await repo.backup({ 'a.txt': 'hello' });
    expect((await backups().check()).detail).toBe(
      `opened the restic repository ${repo.repository}; 1 snapshot(s)`,
    );
  });

  it('names a wrong password and a missing repository', async () => {
    expect((await failureOf(backups('wrong').check())).type).toBe(connectorFailureTypes.authRefused);
    expect((await failureOf(backups(repo.password, `${repo.repository}-none`).check())).type).toBe(
      connectorFailureTypes.notConfigured,
    );
  });

  it('validates a restore of the latest snapshot: checked, restored, compared, timed, scratch removed', async () => {
    await repo.backup({ 'old.txt': 'an older backup' }, { host: 'fs01' });
    const big = randomBytes(300_000);
    const { folder } = await repo.backup(
      { 'docs/contract.txt': 'signed', 'db/dump.bin': big, 'empty.txt': '' },
      { host: 'fs01' },
    );
    const outcome = await backups().validateRestore({ host: 'fs01' });
    const [latest] = (await repo.snapshots(['--latest', '1', '--host', 'fs01'])).slice(-1);
    expect(outcome.facts?.snapshot).toBe(latest!.id);
    expect(outcome.facts?.snapshotPaths).toBe(folder);
    expect(outcome.facts?.tool).toMatch(/^restic \d+\.\d+/);
    expect(outcome.restore).toMatchObject({
      integrityCheck: 'passed',
      restoredFiles: 3,
      restoredBytes: 'signed'.length + big.length,
      verifiedBy: 'connector restic (acme-backups)',
    });
    expect(Date.parse(outcome.restore!.endedAt)).toBeGreaterThanOrEqual(
      Date.parse(outcome.restore!.startedAt),
    );
    expect(outcome.verifications.map((check) => [check.what, check.passed])).toEqual([
      ['restic check --read-data-subset=100% finds no error', true],
      [
        "restic restore --verify: every restored file's content matches the snapshot's SHA-256 blob IDs",
        true,
      ],
      ['every file of the snapshot is restored with its size', true],
      ['the scratch copy is removed', true],
    ]);
    expect(outcome.commands.map((run) => run.command.split(' ').slice(0, 3).join(' '))).toEqual([
      'restic --no-cache snapshots',
      'restic --no-cache check',
      'restic --no-cache restore',
      'restic --no-cache ls',
    ]);
    expect(outcome.commands.every((run) => run.exitCode === 0)).toBe(true);
    expect(JSON.stringify(outcome)).not.toContain(repo.password);
    expect(await readdir(scratchDir)).toEqual([]);
  });

  it('finds a damaged snapshot before restoring it, and leaves no scratch copy', async () => {
    await repo.backup({ 'data.bin': randomBytes(200_000) });
    await repo.corrupt();
    const error = await failureOf(backups().validateRestore());
    expect(error.type).toBe(connectorFailureTypes.verificationFailed);
    expect(error.message).toContain('restic check failed');
    expect(await readdir(scratchDir)).toEqual([]);
  });

  it('says there is nothing to restore when no snapshot matches', async () => {
    await repo.backup({ 'a.txt': 'a' }, { host: 'other' });
    const error = await failureOf(backups().validateRestore({ host: 'fs01' }));
    expect(error.message).toContain('no snapshot to restore (host fs01)');
  });

  it("forgets and prunes a client's snapshots with a NIST record, keeps the others; a retry forgets nothing", async () => {
    await repo.backup({ 'a.txt': 'client a, monday' }, { host: 'acme-fs01', tag: 'acme' });
    await repo.backup({ 'a.txt': 'client a, tuesday' }, { host: 'acme-fs01', tag: 'acme' });
    await repo.backup({ 'b.txt': 'another client' }, { host: 'globex-fs01', tag: 'globex' });
    const outcome = await backups().deleteSnapshots({ tag: 'acme' });
    expect(await repo.snapshots(['--tag', 'acme'])).toEqual([]);
    expect((await repo.snapshots()).map((snapshot) => snapshot.hostname)).toEqual(['globex-fs01']);
    expect(outcome.commands.some((run) => run.command.includes('forget --prune'))).toBe(true);
    expect(outcome.verifications.map((check) => [check.what, check.passed])).toEqual([
      ['restic snapshots lists no snapshot of tag acme', true],
      ['restic check finds the repository consistent after the prune', true],
    ]);
    expect(outcome.sanitization).toMatchObject({
      mediaType: 'restic backup repository',
      mediaId: `${repo.repository} (tag acme)`,
      category: 'Purge',
      tool: 'restic',
      verificationResult: 'passed',
    });
    expect(outcome.sanitization!.toolVersion).toMatch(/^\d+\.\d+/);
    const again = await backups().deleteSnapshots({ tag: 'acme' });
    expect(again.commands.some((run) => run.command.includes('forget'))).toBe(false);
    expect(again.facts?.forgotten).toBe('none left');
  });
});
