-- Connections to client systems: one row per connection, its settings and secret reference as JSON
-- (the secret itself is in vault_versions). A second connection with an id is refused by the key.
CREATE TABLE IF NOT EXISTS connections (
  id text PRIMARY KEY,
  body jsonb NOT NULL
);
