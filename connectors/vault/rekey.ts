// Moving every vault version under the newest vault key (`npm run vault:rekey`), and counting which
// keys the versions still need (`npm run keys:check`), so an old key is removed only once nothing
// needs it.
//
// Each version is re-sealed and replaced on its own, at once (a file renamed over, one row updated):
// a rekey interrupted anywhere leaves every version sealed under its old key or the newest, both
// listed, and running it again carries on. The replacement keeps the version's number, creation time
// and fingerprint, so the references workflows and documents hold stay true.
import { VaultError } from './port.js';
import { type SealedVersion, type Sealer, sealedUnder } from './sealing.js';

/** A version as stored, before it is opened: `sealed` is anything (the sealer authenticates it). */
export interface StoredVersion {
  vaultId: string;
  version: number;
  sealed: unknown;
}

/** Every version of a vault, as each store keeps it. */
export interface VaultRecords {
  all(): AsyncIterable<StoredVersion>;
  /** Replaces the stored version `sealed.version` of `vaultId` at once. */
  replace(vaultId: string, sealed: SealedVersion): Promise<void>;
}

export interface VaultKeyUsage {
  /** How many versions each key id seals. */
  versions: Map<string, number>;
  /** Why each version that could not be counted was not: names it, never its secret. */
  unreadable: string[];
}

/**
 * Counts the key id `keyIdOf` finds for each version. A VaultError makes the version unreadable, and it
 * still counts for the key it names: that key may not go while the version is unsettled.
 */
async function tally(
  records: VaultRecords,
  keyIdOf: (stored: StoredVersion) => Promise<string>,
): Promise<VaultKeyUsage> {
  const usage: VaultKeyUsage = { versions: new Map(), unreadable: [] };
  for await (const stored of records.all()) {
    let keyId = sealedUnder(stored.sealed);
    try {
      keyId = await keyIdOf(stored);
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      usage.unreadable.push(error.message);
    }
    if (keyId !== undefined) usage.versions.set(keyId, (usage.versions.get(keyId) ?? 0) + 1);
  }
  return usage;
}

/** Which key each version names, without opening any (no key needed). */
export function vaultKeyUsage(records: VaultRecords): Promise<VaultKeyUsage> {
  return tally(records, async ({ vaultId, version, sealed }) => {
    const keyId = sealedUnder(sealed);
    if (keyId === undefined)
      throw new VaultError('corrupt', `vault entry ${vaultId} v${version} is not a vault entry`);
    return keyId;
  });
}

/**
 * Opens every version (so each is known to be readable) and re-seals under the newest key those
 * that are not yet; idempotent. `onResealed` runs after each replacement (progress).
 */
export function rekeyVault(
  records: VaultRecords,
  sealer: Sealer,
  onResealed: () => void = () => undefined,
): Promise<VaultKeyUsage> {
  return tally(records, async ({ vaultId, version, sealed }) => {
    const { ref, secret } = sealer.open(vaultId, version, sealed);
    if (sealedUnder(sealed) !== sealer.newestKeyId) {
      await records.replace(vaultId, sealer.seal(ref, secret));
      onResealed();
    }
    return sealer.newestKeyId;
  });
}

/**
 * The operator's report: per key id, how many versions it seals and whether it is listed; which
 * listed keys nothing needs any more. `ok` is false when a version needs an unlisted key or could not
 * be read: removing keys must wait.
 */
export function describeVaultKeyUsage(
  usage: VaultKeyUsage,
  listed: readonly string[],
): { lines: string[]; ok: boolean } {
  const newest = listed.at(-1);
  const lines: string[] = [];
  let ok = usage.unreadable.length === 0;
  for (const keyId of [...new Set([...listed, ...usage.versions.keys()])].sort()) {
    const count = usage.versions.get(keyId) ?? 0;
    const state = !listed.includes(keyId)
      ? 'NOT CONFIGURED'
      : keyId === newest
        ? 'configured, the newest (seals new versions)'
        : count === 0
          ? 'configured, needed by no version: may be removed from VAULT_KEY'
          : 'configured, still needed: run `npm run vault:rekey`';
    if (!listed.includes(keyId)) ok = false;
    lines.push(`vault key ${keyId}: ${count} version(s), ${state}`);
  }
  for (const reason of usage.unreadable) lines.push(`unreadable: ${reason}`);
  return { lines, ok };
}
