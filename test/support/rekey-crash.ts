// Run by the rekey tests in a child process: `node --import tsx rekey-crash.ts <n>` with DATA_DIR,
// VAULT_KEY and perhaps STATE_DB_URL in the environment. Rekeys the configured vault as `npm run
// vault:rekey` does and SIGKILLs itself right after the n-th version is re-sealed: a rekey stopped
// half-way, as a crash or a deploy would stop it.
import { parseConfig } from '../../config/config.js';
import { openVaultRecords } from '../../connectors/stores.js';
import { rekeyVault } from '../../connectors/vault/rekey.js';
import { createSealer } from '../../connectors/vault/sealing.js';
import { loadVaultKeys } from '../../connectors/vault/vault-keys.js';

const stopAfter = Number(process.argv[2]);
if (!Number.isSafeInteger(stopAfter) || stopAfter < 1) throw new Error('usage: rekey-crash.ts <n>');
const config = parseConfig();
const sealer = createSealer(await loadVaultKeys(config.dataDir, config.vaultKey));
const { records } = await openVaultRecords(config);
let resealed = 0;
await rekeyVault(records, sealer, () => {
  resealed += 1;
  if (resealed === stopAfter) process.kill(process.pid, 'SIGKILL');
});
// Reached only if fewer versions needed re-sealing: the parent sees exit code 3 instead of SIGKILL.
process.exit(3);
