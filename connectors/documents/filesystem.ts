import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { DocumentFormat, DocumentMeta, DocumentStore } from './port.js';

const safeName = /^[a-z0-9][a-z0-9.-]*$/;

function assertSafe(...names: string[]): void {
  for (const name of names)
    if (!safeName.test(name)) throw new Error(`unsafe document path segment: ${name}`);
}

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

/** Follows the chain from the first document; any document off the chain comes last, by id. */
function chainOrder(metas: DocumentMeta[]): DocumentMeta[] {
  const ordered: DocumentMeta[] = [];
  const remaining = new Set(metas);
  let previous: string | null = null;
  for (;;) {
    const next = [...remaining].find((meta) => meta.previousSha256 === previous);
    if (!next) break;
    ordered.push(next);
    remaining.delete(next);
    previous = next.sha256;
  }
  return [...ordered, ...remaining];
}

/** Documents as files under `<root>/<transitionId>/<documentId>.{md,html,json}`. */
export function createFilesystemDocumentStore(root: string): DocumentStore {
  const dir = (transitionId: string) => path.join(root, transitionId);
  const metaFile = (transitionId: string, id: string) => path.join(dir(transitionId), `${id}.json`);

  async function readMeta(transitionId: string, id: string): Promise<DocumentMeta | null> {
    try {
      return JSON.parse(await readFile(metaFile(transitionId, id), 'utf8')) as DocumentMeta;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  return {
    async writeOnce(meta, files) {
      assertSafe(meta.transitionId, meta.id);
      const existing = await readMeta(meta.transitionId, meta.id);
      if (existing) return existing;
      const sha256 = createHash('sha256').update(files.md).digest('hex');
      if (sha256 !== meta.sha256) throw new Error(`document ${meta.id}: sha256 does not match its Markdown`);
      await mkdir(dir(meta.transitionId), { recursive: true });
      // The bodies first, the metadata last: a document exists once its .json does.
      await writeFileAtomic(path.join(dir(meta.transitionId), `${meta.id}.md`), files.md);
      await writeFileAtomic(path.join(dir(meta.transitionId), `${meta.id}.html`), files.html);
      await writeFileAtomic(metaFile(meta.transitionId, meta.id), JSON.stringify(meta, null, 2));
      return meta;
    },
    async list(transitionId) {
      assertSafe(transitionId);
      let names: string[];
      try {
        names = await readdir(dir(transitionId));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const ids = names.filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -5));
      const metas = await Promise.all(ids.sort().map((id) => readMeta(transitionId, id)));
      return chainOrder(metas.filter((meta): meta is DocumentMeta => meta !== null));
    },
    async writeArchive(transitionId, name, data) {
      assertSafe(transitionId, name);
      await mkdir(path.join(dir(transitionId), 'archive'), { recursive: true });
      await writeFileAtomic(path.join(dir(transitionId), 'archive', name), data);
    },
    async readArchive(transitionId, name) {
      assertSafe(transitionId, name);
      try {
        return await readFile(path.join(dir(transitionId), 'archive', name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async read(transitionId, documentId, format: DocumentFormat) {
      assertSafe(transitionId, documentId);
      if (!(await readMeta(transitionId, documentId))) return null;
      return readFile(path.join(dir(transitionId), `${documentId}.${format}`));
    },
  };
}
