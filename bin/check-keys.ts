// `npm run keys:check`: which keys the stored data still needs, and whether each is configured.
// Payload codec keys: the history archives (under DATA_DIR/documents, or in the DOCUMENTS_URL bucket).
// Vault keys: the vault versions (in the STATE_DB_URL database, else under DATA_DIR/vault), with the
// keys nothing needs any more. Exits 1 when something needs a key that is not configured: put it
// back (CODEC_KEYS or keys/codec-keys; VAULT_KEY) before that data is read.
import path from 'node:path';
import { loadConfigOrExit } from '../config/config.js';
import { s3Bucket, s3Client } from '../connectors/documents/s3.js';
import { openVaultRecords } from '../connectors/stores.js';
import { describeVaultKeyUsage, vaultKeyUsage } from '../connectors/vault/rekey.js';
import { configuredVaultKeyIds } from '../connectors/vault/vault-keys.js';
import { archiveKeyUsage, bucketArchives, filesystemArchives } from '../security/archive-keys.js';
import { loadCodecKeys } from '../security/payload-codec.js';

const config = loadConfigOrExit();
const configured = new Set((await loadCodecKeys(config.dataDir, config.codecKeys)).map((key) => key.id));
const s3 = config.documents ? s3Client(config.documents) : null;
const usage = await archiveKeyUsage(
  config.documents && s3
    ? bucketArchives(s3Bucket(config.documents, s3))
    : filesystemArchives(path.join(config.dataDir, 'documents')),
);
s3?.destroy();
let missing = 0;
for (const [keyId, archives] of [...usage].sort(([a], [b]) => a.localeCompare(b))) {
  const known = configured.has(keyId);
  if (!known) missing += 1;
  process.stdout.write(
    `${keyId}: ${archives.length} archive(s), ${known ? 'configured' : 'NOT CONFIGURED'}\n`,
  );
}
for (const keyId of [...configured].filter((id) => !usage.has(id)))
  process.stdout.write(`${keyId}: configured, used by no archive\n`);
if (missing > 0)
  process.stderr.write(
    `${missing} key(s) that archives need are not configured: those audits cannot be read.\n`,
  );

const vault = await openVaultRecords(config);
const vaultReport = describeVaultKeyUsage(
  await vaultKeyUsage(vault.records).finally(vault.close),
  configuredVaultKeyIds(config.vaultKey),
);
for (const line of vaultReport.lines) process.stdout.write(`${line}\n`);
if (!vaultReport.ok)
  process.stderr.write(
    'vault versions need a vault key that is not configured: those secrets cannot be read.\n',
  );

if (missing > 0 || !vaultReport.ok) process.exit(1);
