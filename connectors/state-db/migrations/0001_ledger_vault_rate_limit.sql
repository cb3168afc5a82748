-- The side-effect ledger: one row per idempotency key, named by the key's SHA-256 (the key itself is
-- never stored). `claimed` until the effect is recorded `done`, or found unfinished (`in-doubt`).
CREATE TABLE IF NOT EXISTS side_effect_ledger (
  key_sha256 text PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('claimed', 'done', 'in-doubt')),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The vault: one row per version of a secret, sealed with AES-256-GCM in the process before it is
-- written. Versions are append-only: the primary key refuses a second row for a (vault id, version).
CREATE TABLE IF NOT EXISTS vault_versions (
  vault_id text NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  created_at text NOT NULL,
  fingerprint text NOT NULL,
  iv text NOT NULL,
  tag text NOT NULL,
  ciphertext text NOT NULL,
  PRIMARY KEY (vault_id, version)
);

-- Failed link attempts per client address, in the window that ends at `resets_at`.
CREATE TABLE IF NOT EXISTS failed_link_attempts (
  address text PRIMARY KEY,
  attempts integer NOT NULL,
  resets_at timestamptz NOT NULL
);
