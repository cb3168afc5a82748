/** What workflows, documents and emails may carry about a secret: never the value (docs/design.md §7). */
export interface SecretRef {
  /** Where the secret lives, e.g. `offboarding-acme/credential-rotation/domain-admin`. */
  vaultId: string;
  /** 1 for the first secret stored under `vaultId`, then 2, 3, ... */
  version: number;
  /**
   * A keyed, non-reversible name for the value: equal fingerprints mean equal secrets, among versions
   * written under the same vault key (re-sealing under a newer key keeps a version's fingerprint).
   */
  fingerprint: string;
  createdAt: string;
}

/** Where secrets live. Versions are append-only: a stored version is never overwritten. */
export interface Vault {
  /** Stores `secret` as a new version under `vaultId` and returns its reference. */
  put(vaultId: string, secret: string): Promise<SecretRef>;
  /** The secret of one version (the latest when `version` is omitted). Throws VaultError. */
  get(vaultId: string, version?: number): Promise<{ ref: SecretRef; secret: string }>;
  /** Every version's reference, oldest first; [] when none. */
  list(vaultId: string): Promise<SecretRef[]>;
}

/** `key-missing`: the version is sealed under a vault key no longer listed in VAULT_KEY. */
export type VaultErrorCode = 'not-found' | 'corrupt' | 'invalid-id' | 'key-missing';

/** A vault failure with a stable code. Its message never contains a secret or a key. */
export class VaultError extends Error {
  constructor(
    readonly code: VaultErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VaultError';
  }
}
