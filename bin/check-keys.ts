// `npm run keys:check`: which payload codec keys the history archives (under DATA_DIR/documents, or
// in the DOCUMENTS_URL bucket) still need, and whether each is configured. Exits 1 when an archive
// needs a key that is not: put it back in CODEC_KEYS (or keys/codec-keys) before those audits are read.
import path from 'node:path';
import { loadConfigOrExit } from '../config/config.js';
import { s3Bucket, s3Client } from '../connectors/documents/s3.js';
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
if (missing > 0) {
  process.stderr.write(
    `${missing} key(s) that archives need are not configured: those audits cannot be read.\n`,
  );
  process.exit(1);
}
