// `npm run keys:check`: which payload codec keys the history archives under DATA_DIR/documents still
// need, and whether each is configured. Exits 1 when an archive needs a key that is not: put it back
// in CODEC_KEYS (or keys/codec-keys) before those audits are read.
import path from 'node:path';
import { loadConfigOrExit } from '../config/config.js';
import { archiveKeyUsage } from '../security/archive-keys.js';
import { loadCodecKeys } from '../security/payload-codec.js';

const config = loadConfigOrExit();
const configured = new Set((await loadCodecKeys(config.dataDir, config.codecKeys)).map((key) => key.id));
const usage = await archiveKeyUsage(path.join(config.dataDir, 'documents'));
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
