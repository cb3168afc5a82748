import { z } from 'zod';
import { checkConnection, secretProblem } from '../../connectors/connections/adapters.js';
import type { Connection, ConnectionStore } from '../../connectors/connections/port.js';
import { connectionId, connectionRequest } from '../../connectors/connections/settings.js';
import { notConfigured } from '../../connectors/failures.js';
import type { Vault } from '../../connectors/vault/port.js';
import { HttpError, notFound } from '../errors.js';
import type { ApiRoutes } from '../routes.js';

const tag = 'connections';
const idParams = z.object({ id: connectionId });
const listQuery = z.strictObject({ clientId: connectionId.optional() });

/** Where a connection's secret lives in the vault; each POST of the id adds a version. */
export const connectionVaultId = (id: string) => `connections/${id}`;

/** What the API answers about a connection: everything but the secret, whose reference stands in for it. */
function view(connection: Connection) {
  const { vaultId, version, fingerprint } = connection.secretRef;
  return { ...connection, secretRef: { vaultId, version, fingerprint } };
}

/**
 * Connections to client systems (docs/design.md §8): settings validated per type, the secret straight
 * into the vault and never echoed, and a check that makes a real round trip.
 */
export function connectionRoutes(routes: ApiRoutes, deps: { connections: ConnectionStore; vault: Vault }) {
  const { connections, vault } = deps;
  const existing = async (id: string) => {
    const connection = await connections.get(id);
    if (!connection) throw notFound(`no connection ${id}`);
    return connection;
  };

  routes.add(
    {
      method: 'post',
      path: '/v1/connections',
      summary: 'Add a connection: its settings, and its secret straight into the vault (never echoed)',
      roles: ['operator'],
      body: connectionRequest,
      status: 201,
      responses: {
        201: 'Added: the connection with its secret reference',
        400: 'Invalid settings or secret',
        401: 'No key',
        403: 'Not an operator',
        409: 'A connection with this id exists',
      },
      tag,
    },
    async ({ body, caller }) => {
      const { secret, clientId, ...rest } = body;
      const problem = secretProblem(body.type, secret);
      if (problem) throw new HttpError(400, 'invalid_request', `secret: ${problem}`);
      const taken = () => new HttpError(409, 'conflict', `a connection ${body.id} exists; delete it first`);
      // Checked before the vault is written, so a refused request leaves nothing behind.
      if (await connections.get(body.id)) throw taken();
      const secretRef = await vault.put(connectionVaultId(body.id), secret);
      const connection = {
        ...rest,
        clientId: clientId ?? null,
        secretRef,
        createdAt: new Date().toISOString(),
        createdBy: caller.name,
      } as Connection;
      if (!(await connections.create(connection))) throw taken();
      return view(connection);
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/connections',
      summary: 'List connections (the MSP’s and every client’s, or one client’s with clientId)',
      roles: ['operator', 'auditor'],
      query: listQuery,
      responses: { 200: 'Connections', 400: 'Invalid filter', 401: 'No key' },
      tag,
    },
    async ({ query }) => ({
      connections: (await connections.list())
        .filter((connection) => query.clientId === undefined || connection.clientId === query.clientId)
        .map(view),
    }),
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/connections/:id',
      summary: 'One connection, with its secret reference',
      roles: ['operator', 'auditor'],
      params: idParams,
      responses: { 200: 'The connection', 401: 'No key', 404: 'Unknown connection' },
      tag,
    },
    async ({ params }) => view(await existing(params.id)),
  );

  routes.add(
    {
      method: 'delete',
      path: '/v1/connections/:id',
      summary:
        'Remove a connection; assets that name it fall back to manual tasks. Its vaulted secret versions stay',
      roles: ['operator'],
      params: idParams,
      status: 204,
      responses: { 204: 'Removed', 401: 'No key', 403: 'Not an operator', 404: 'Unknown connection' },
      tag,
    },
    async ({ params, res }) => {
      if (!(await connections.delete(params.id))) throw notFound(`no connection ${params.id}`);
      res.status(204).end();
      return undefined;
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/connections/:id/check',
      summary: 'Reach the system with the connection: a real round trip; ok, what was found or why not',
      roles: ['operator'],
      params: idParams,
      responses: {
        200: '{ ok, detail, checkedAt }',
        401: 'No key',
        403: 'Not an operator',
        404: 'Unknown connection',
      },
      tag,
    },
    async ({ params }) => {
      const withSecret = async (id: string) => {
        const connection = await connections.get(id);
        if (!connection) throw notConfigured(`there is no connection ${id}`);
        const { secret } = await vault.get(connection.secretRef.vaultId, connection.secretRef.version);
        return { connection, secret };
      };
      const { connection, secret } = await withSecret((await existing(params.id)).id);
      return checkConnection(connection, secret, withSecret);
    },
  );
}
