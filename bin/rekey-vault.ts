// `npm run vault:rekey`: re-seals every vault version (the STATE_DB_URL database's, else the files
// under DATA_DIR/vault) under the newest VAULT_KEY, then says per key id how many versions still need
// it and which keys may be removed. Safe to stop at any moment and to run again. Run it once every
// worker and API process has the new key list; exits 1 when a version could not be read.
import { loadConfigOrExit } from '../config/config.js';
import { openVaultRecords } from '../connectors/stores.js';
import { describeVaultKeyUsage, rekeyVault } from '../connectors/vault/rekey.js';
import { createSealer } from '../connectors/vault/sealing.js';
import { loadVaultKeys } from '../connectors/vault/vault-keys.js';

const config = loadConfigOrExit();
const keys = await loadVaultKeys(config.dataDir, config.vaultKey);
const sealer = createSealer(keys);
const { records, close } = await openVaultRecords(config);
let resealed = 0;
const usage = await rekeyVault(records, sealer, () => {
  resealed += 1;
  if (resealed % 1000 === 0) process.stdout.write(`... ${resealed} version(s) re-sealed\n`);
}).finally(close);
process.stdout.write(`re-sealed ${resealed} version(s) under vault key ${sealer.newestKeyId}\n`);
const report = describeVaultKeyUsage(
  usage,
  keys.map((key) => key.id),
);
for (const line of report.lines) process.stdout.write(`${line}\n`);
if (!report.ok) {
  process.stderr.write('some versions could not be re-sealed: keep every old key until they are.\n');
  process.exit(1);
}
