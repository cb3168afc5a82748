// Where the recorded histories live and how they decode: with the production payload codec and a
// test key committed on purpose (codec-keys), so the histories replay in any checkout.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { decodeHistory } from '../../audit/history-codec.js';
import { projectRoot } from '../../config/config.js';
import { dataConverterOptions, parseCodecKeys } from '../../security/payload-codec.js';

export const historiesDir = path.join(projectRoot, 'test', 'replay', 'histories');
/** Protobuf `temporal.api.history.v1.History`; `temporal workflow show -o json` shows one as JSON. */
export const historyExtension = '.binpb';

export async function fixtureDataConverter() {
  const keys = await readFile(path.join(projectRoot, 'test', 'replay', 'codec-keys'), 'utf8');
  return dataConverterOptions(parseCodecKeys(keys));
}

export interface RecordedHistory {
  /** `<version>/<scenario>`: the release that recorded it and the state it stops in. */
  name: string;
  workflowId: string;
  history: temporal.api.history.v1.IHistory;
}

/** Every recorded history of every version, oldest version first. */
export async function recordedHistories(): Promise<RecordedHistory[]> {
  const versions = (await readdir(historiesDir).catch(() => [])).sort();
  const histories: RecordedHistory[] = [];
  for (const version of versions) {
    const files = (await readdir(path.join(historiesDir, version))).filter((name) =>
      name.endsWith(historyExtension),
    );
    for (const file of files.sort()) {
      const history = decodeHistory(await readFile(path.join(historiesDir, version, file)));
      const scenario = file.slice(0, -historyExtension.length);
      const kind = scenario.startsWith('onboarding') ? 'onboarding' : 'offboarding';
      histories.push({ name: `${version}/${scenario}`, workflowId: `${kind}-${scenario}`, history });
    }
  }
  return histories;
}
