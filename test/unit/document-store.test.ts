import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import protos from '@temporalio/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeHistory } from '../../audit/history-codec.js';
import { createFilesystemDocumentStore } from '../../connectors/documents/filesystem.js';
import type { DocumentMeta } from '../../connectors/documents/port.js';
import { historyArchiveName } from '../../domain/activity-contracts.js';

const transitionId = 'offboarding-acme';
let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'documents-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function document(id: string, previousSha256: string | null) {
  const md = `# ${id}\n`;
  const meta: DocumentMeta = {
    id,
    transitionId,
    step: id.slice(3),
    title: id,
    sha256: createHash('sha256').update(md).digest('hex'),
    previousSha256,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  return { meta, files: { md, html: `<h1>${id}</h1>` } };
}

/** A history whose start event names `runId`, as Temporal records it. */
function historyOf(runId: string): Buffer {
  const history = protos.temporal.api.history.v1.History.fromObject({
    events: [
      {
        eventId: 1,
        eventTime: { seconds: 1_767_225_600 },
        eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
        workflowExecutionStartedEventAttributes: { originalExecutionRunId: runId },
      },
    ],
  });
  return Buffer.from(encodeHistory(history));
}

/** What the store wrote before runs had folders: documents and archive right under the transition. */
async function writeLegacy(runId: string, documents: ReturnType<typeof document>[]) {
  const dir = path.join(root, transitionId);
  await mkdir(path.join(dir, 'archive'), { recursive: true });
  for (const { meta, files } of documents) {
    await writeFile(path.join(dir, `${meta.id}.md`), files.md);
    await writeFile(path.join(dir, `${meta.id}.html`), files.html);
    await writeFile(path.join(dir, `${meta.id}.json`), JSON.stringify(meta));
  }
  await writeFile(path.join(dir, 'archive', historyArchiveName), historyOf(runId));
}

describe('the filesystem document store', () => {
  it('keeps each run apart: same document ids, own bytes, own archive', async () => {
    const store = createFilesystemDocumentStore(root);
    const [first, second] = [randomUUID(), randomUUID()];
    const cancelled = { ...document('01-notice', null), files: { md: '# 01-notice\n', html: 'cancelled' } };
    await store.writeOnce({ transitionId, runId: first }, cancelled.meta, cancelled.files);
    const approved = document('01-notice', null);
    await store.writeOnce({ transitionId, runId: second }, approved.meta, {
      ...approved.files,
      html: 'approved',
    });
    await store.writeArchive({ transitionId, runId: first }, historyArchiveName, historyOf(first));
    await store.writeArchive({ transitionId, runId: second }, historyArchiveName, historyOf(second));

    expect(String(await store.read({ transitionId, runId: first }, '01-notice', 'html'))).toBe('cancelled');
    expect(String(await store.read({ transitionId, runId: second }, '01-notice', 'html'))).toBe('approved');
    expect(await store.readArchive({ transitionId, runId: first }, historyArchiveName)).toEqual(
      historyOf(first),
    );
    expect((await store.runIds(transitionId)).sort()).toEqual([first, second].sort());
  });

  it('reads the documents a run in flight wrote before run folders as part of that run, and of no other', async () => {
    const store = createFilesystemDocumentStore(root);
    const [inFlight, later] = [randomUUID(), randomUUID()];
    const notice = document('01-notice', null);
    const exported = document('02-export', notice.meta.sha256);
    await writeLegacy(inFlight, [notice, exported]);
    const cutover = document('03-cutover', exported.meta.sha256);
    await store.writeOnce({ transitionId, runId: inFlight }, cutover.meta, cutover.files);

    const run = { transitionId, runId: inFlight };
    expect((await store.list(run)).map((meta) => meta.id)).toEqual(['01-notice', '02-export', '03-cutover']);
    expect(String(await store.read(run, '02-export', 'md'))).toBe('# 02-export\n');
    expect(await store.readArchive(run, historyArchiveName)).toEqual(historyOf(inFlight));
    // A retry of a document written before the change finds it where it is.
    expect(await store.writeOnce(run, exported.meta, exported.files)).toEqual(exported.meta);

    const other = { transitionId, runId: later };
    expect(await store.list(other)).toEqual([]);
    expect(await store.read(other, '02-export', 'md')).toBeNull();
    expect(await store.readArchive(other, historyArchiveName)).toBeNull();
    expect(await store.runIds(transitionId)).toEqual([inFlight]);
  });
});
