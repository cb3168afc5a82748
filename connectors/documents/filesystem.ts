import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { decodeHistory, startOf } from '../../audit/history-codec.js';
import { historyArchiveName } from '../../domain/activity-contracts.js';
import type { DocumentFormat, DocumentMeta, DocumentStore, RunRef } from './port.js';
import { assertSafe, chainOrder } from './layout.js';

/** Writes a file atomically and durably: temp file, fsync, rename. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const handle = await open(temp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Documents as files under `<root>/<transitionId>/<runId>/<documentId>.{md,html,json}`, the history
 * archive in `<root>/<transitionId>/<runId>/archive/`.
 *
 * Before runs had folders, a transition's files lay in `<root>/<transitionId>/` itself. They belong to
 * the run their archived history names (the run in flight when the layout changed, which writes on
 * into its own folder), so they read as part of that run and of no other.
 */
export function createFilesystemDocumentStore(root: string): DocumentStore {
  const legacyDir = (transitionId: string) => path.join(root, transitionId);
  // `_` is no transition id's first character, so this folder is never taken for a transition.
  const inputDir = (transitionId: string) => path.join(root, '_inputs', transitionId);
  const runDir = (run: RunRef) => path.join(root, run.transitionId, run.runId);

  async function readMeta(dir: string, id: string): Promise<DocumentMeta | null> {
    const bytes = await readIfExists(path.join(dir, `${id}.json`));
    return bytes ? (JSON.parse(bytes.toString('utf8')) as DocumentMeta) : null;
  }

  async function metasIn(dir: string): Promise<DocumentMeta[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const ids = names.filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -5));
    const metas = await Promise.all(ids.sort().map((id) => readMeta(dir, id)));
    return metas.filter((meta): meta is DocumentMeta => meta !== null);
  }

  /** The run that stored the transition's files before runs had folders, or null. */
  async function legacyOwner(transitionId: string): Promise<string | null> {
    const archive = await readIfExists(path.join(legacyDir(transitionId), 'archive', historyArchiveName));
    return archive ? (startOf(decodeHistory(archive))?.runId ?? null) : null;
  }

  /** Where the run's files may be: its own folder first. */
  async function dirsOf(run: RunRef): Promise<string[]> {
    assertSafe(run.transitionId, run.runId);
    const own = runDir(run);
    return (await legacyOwner(run.transitionId)) === run.runId ? [own, legacyDir(run.transitionId)] : [own];
  }

  async function find(run: RunRef, id: string): Promise<{ dir: string; meta: DocumentMeta } | null> {
    for (const dir of await dirsOf(run)) {
      const meta = await readMeta(dir, id);
      if (meta) return { dir, meta };
    }
    return null;
  }

  return {
    async writeOnce(run, meta, files) {
      assertSafe(meta.id);
      const existing = await find(run, meta.id);
      if (existing) return existing.meta;
      const sha256 = sha256Of(Buffer.from(files.md));
      if (sha256 !== meta.sha256) throw new Error(`document ${meta.id}: sha256 does not match its Markdown`);
      const dir = runDir(run);
      await mkdir(dir, { recursive: true });
      // The bodies first, the metadata last: a document exists once its .json does.
      await writeFileAtomic(path.join(dir, `${meta.id}.md`), files.md);
      await writeFileAtomic(path.join(dir, `${meta.id}.html`), files.html);
      await writeFileAtomic(path.join(dir, `${meta.id}.json`), JSON.stringify(meta, null, 2));
      return meta;
    },
    async list(run) {
      const byId = new Map<string, DocumentMeta>();
      for (const dir of await dirsOf(run))
        for (const meta of await metasIn(dir)) if (!byId.has(meta.id)) byId.set(meta.id, meta);
      return chainOrder([...byId.values()].sort((a, b) => a.id.localeCompare(b.id)));
    },
    async read(run, documentId, format: DocumentFormat) {
      assertSafe(documentId);
      const found = await find(run, documentId);
      return found ? readFile(path.join(found.dir, `${documentId}.${format}`)) : null;
    },
    async writeArchive(run, name, data) {
      assertSafe(run.transitionId, run.runId, name);
      await mkdir(path.join(runDir(run), 'archive'), { recursive: true });
      await writeFileAtomic(path.join(runDir(run), 'archive', name), data);
    },
    async readArchive(run, name) {
      assertSafe(name);
      for (const dir of await dirsOf(run)) {
        const bytes = await readIfExists(path.join(dir, 'archive', name));
        if (bytes) return bytes;
      }
      return null;
    },
    async writeInput(transitionId, sha256, data) {
      assertSafe(transitionId, sha256);
      if (sha256Of(data) !== sha256) throw new Error(`input ${sha256}: the bytes do not hash to it`);
      const file = path.join(inputDir(transitionId), `${sha256}.json`);
      if (await readIfExists(file)) return;
      await mkdir(inputDir(transitionId), { recursive: true });
      await writeFileAtomic(file, data);
    },
    async readInput(transitionId, sha256) {
      assertSafe(transitionId, sha256);
      const bytes = await readIfExists(path.join(inputDir(transitionId), `${sha256}.json`));
      if (bytes && sha256Of(bytes) !== sha256)
        throw new Error(`input ${sha256} of ${transitionId} is corrupt`);
      return bytes;
    },
    async runIds(transitionId) {
      assertSafe(transitionId);
      let entries;
      try {
        entries = await readdir(legacyDir(transitionId), { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      // `archive` is the legacy layout's archive folder, never a run.
      const filed = entries.filter((entry) => entry.isDirectory() && entry.name !== 'archive');
      const owner = await legacyOwner(transitionId);
      return [...new Set([...filed.map((entry) => entry.name), ...(owner ? [owner] : [])])];
    },
  };
}
