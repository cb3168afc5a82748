// Connections as files `<dir>/<id>.json`, one per connection, created exclusively (a second create of
// an id changes nothing) and published whole, so a reader never sees half a connection.
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { publishNewFile, syncDirectory } from '../../security/keys.js';
import type { Connection, ConnectionStore } from './port.js';
import { connectionId } from './settings.js';

export function createFilesystemConnectionStore(dir: string): ConnectionStore {
  const fileOf = (id: string) => {
    if (!connectionId.safeParse(id).success) throw new Error('a connection id is a slug');
    return path.join(dir, `${id}.json`);
  };
  async function read(file: string): Promise<Connection | null> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as Connection;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
  return {
    async create(connection) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      return publishNewFile(fileOf(connection.id), JSON.stringify(connection));
    },
    get: (id) => read(fileOf(id)),
    async list() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const ids = names.filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -5));
      const found = await Promise.all(ids.sort().map((id) => read(fileOf(id))));
      return found.filter((connection): connection is Connection => connection !== null);
    },
    async delete(id) {
      try {
        await unlink(fileOf(id));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
      await syncDirectory(dir);
      return true;
    },
  };
}
