import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileLedger, LedgerUnavailableError } from '../../activities/ledger.js';

class NothingHappened extends Error {}
const didNothing = (error: unknown) => error instanceof NothingHappened;

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ledger-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the side-effect ledger', () => {
  it('does an effect once and answers done-earlier to every later attempt', async () => {
    const ledger = createFileLedger(path.join(dir, 'ledger'));
    let runs = 0;
    const effect = async () => void runs++;
    expect(await ledger.atMostOnce('key', effect, didNothing)).toBe('done');
    expect(await ledger.atMostOnce('key', effect, didNothing)).toBe('done-earlier');
    expect(await ledger.atMostOnce('other', effect, didNothing)).toBe('done');
    expect(runs).toBe(2);
  });

  it('releases the claim of an effect that certainly did nothing, so a retry does it', async () => {
    const ledger = createFileLedger(path.join(dir, 'ledger'));
    let runs = 0;
    await expect(
      ledger.atMostOnce(
        'key',
        async () => {
          runs++;
          throw new NothingHappened('refused');
        },
        didNothing,
      ),
    ).rejects.toThrow('refused');
    expect(await ledger.atMostOnce('key', async () => void runs++, didNothing)).toBe('done');
    expect(runs).toBe(2);
  });

  it('never repeats an effect that may have happened: claimed but not recorded is in doubt, for good', async () => {
    const ledger = createFileLedger(path.join(dir, 'ledger'));
    let runs = 0;
    await expect(
      ledger.atMostOnce(
        'key',
        async () => {
          runs++;
          throw new Error('connection lost after the message was handed over');
        },
        didNothing,
      ),
    ).rejects.toThrow('connection lost');
    const again = async () => void runs++;
    expect(await ledger.atMostOnce('key', again, didNothing)).toBe('in-doubt');
    expect(await ledger.atMostOnce('key', again, didNothing)).toBe('in-doubt');
    expect(runs).toBe(1);
  });

  it('fails before the effect when it cannot write its claim, and does it once it can', async () => {
    const ledgerDir = path.join(dir, 'ledger');
    // On a volume that is gone, reads find nothing recorded and every write fails (as root,
    // permissions would stop no write).
    await symlink(path.join(dir, 'unmounted-volume', 'ledger'), ledgerDir);
    const ledger = createFileLedger(ledgerDir);
    let runs = 0;
    const effect = async () => void runs++;
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(ledger.atMostOnce('key', effect, didNothing)).rejects.toBeInstanceOf(
        LedgerUnavailableError,
      );
    expect(runs).toBe(0);
    await rm(ledgerDir);
    expect(await ledger.atMostOnce('key', effect, didNothing)).toBe('done');
    expect(runs).toBe(1);
  });

  it('keeps only hashes of keys', async () => {
    const ledgerDir = path.join(dir, 'ledger');
    await createFileLedger(ledgerDir).atMostOnce('approval:dana@acme.example', async () => {}, didNothing);
    expect(await readdir(ledgerDir)).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.json$/)]);
  });
});
