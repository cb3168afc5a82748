-- The id of the vault key that sealed each version (VAULT_KEY lists keys with ids, newest last), so a
-- key can be replaced without downtime. NULL in the versions sealed before: the key of the implicit
-- id, v0 (a plain VAULT_KEY), opens them.
ALTER TABLE vault_versions ADD COLUMN IF NOT EXISTS key_id text;
