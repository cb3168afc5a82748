// Connections in the state database, so every API and worker host reads the same ones.
import type { Connection, ConnectionStore } from '../connections/port.js';
import type { StateDb } from './state-db.js';

export function createStateDbConnectionStore(db: StateDb): ConnectionStore {
  return {
    async create(connection) {
      const { rowCount } = await db.query(
        'INSERT INTO connections (id, body) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING',
        [connection.id, JSON.stringify(connection)],
      );
      return rowCount === 1;
    },
    async get(id) {
      const { rows } = await db.query<{ body: Connection }>('SELECT body FROM connections WHERE id = $1', [
        id,
      ]);
      return rows[0]?.body ?? null;
    },
    async list() {
      const { rows } = await db.query<{ body: Connection }>('SELECT body FROM connections ORDER BY id');
      return rows.map((row) => row.body);
    },
    async delete(id) {
      const { rowCount } = await db.query('DELETE FROM connections WHERE id = $1', [id]);
      return rowCount === 1;
    },
  };
}
