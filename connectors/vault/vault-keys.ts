// The vault keys: VAULT_KEY as `v1:<base64>,v2:<base64>`, newest last (it seals new versions; every
// listed key still opens the versions sealed under it), or, as before lists, one plain base64 value.
import path from 'node:path';
import {
  exactBase64,
  type KeyList,
  type KeyListFormat,
  keyListProblems,
  parseKeyList,
} from '../../security/key-list.js';
import { loadOrCreateKeyFile } from '../../security/keys.js';

export const vaultKeyBytes = 32;

/**
 * The id of a key written without one (a plain VAULT_KEY, or DATA_DIR/keys/vault-key), and of every
 * version sealed before versions named their key: with this id such a key keeps opening them.
 */
export const implicitVaultKeyId = 'v0';

const vaultKeyFormat: KeyListFormat = {
  source: 'VAULT_KEY',
  implicitId: implicitVaultKeyId,
  decode: exactBase64(vaultKeyBytes, { canonical: true }),
  example: 'a base64 key, or id:base64key[,id:base64key...] with the newest last',
};

/** Parses VAULT_KEY; throws naming each bad entry, never the key material. */
export const parseVaultKeys = (value: string): KeyList => parseKeyList(value, vaultKeyFormat);

/**
 * The vault keys: VAULT_KEY when set, else the one key generated once into DATA_DIR/keys/vault-key
 * (mode 0600, directory 0700), which the API and the worker share. Losing the key loses every secret
 * sealed under it: back it up apart from the vault files.
 */
export async function loadVaultKeys(dataDir: string, fromEnv?: string): Promise<KeyList> {
  if (fromEnv) return parseVaultKeys(fromEnv);
  const key = await loadOrCreateKeyFile(path.join(dataDir, 'keys', 'vault-key'), vaultKeyBytes);
  return [{ id: implicitVaultKeyId, key }];
}

/** The key ids configured, without reading or creating the key file (`npm run keys:check`). */
export const configuredVaultKeyIds = (fromEnv?: string): string[] =>
  fromEnv ? parseVaultKeys(fromEnv).map((key) => key.id) : [implicitVaultKeyId];

/** What is wrong with a VAULT_KEY value, one line per bad entry; [] when it is valid. */
export const vaultKeyProblems = (value: string) => keyListProblems(value, vaultKeyFormat);
