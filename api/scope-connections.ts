// A start whose scope names a connection the runbook could not use is refused before anything runs,
// with a 400 naming each asset, rather than falling back to a person at the step months later.
import type { ConnectionStore } from '../connectors/connections/port.js';
import type { StartRequest } from '../domain/schemas.js';
import { HttpError } from './errors.js';

export async function checkScopeConnections(store: ConnectionStore, request: StartRequest): Promise<void> {
  const assets = [
    ...request.scope.devices.map((asset, index) => ({
      asset,
      path: ['scope', 'devices', index, 'connection'],
    })),
    ...request.scope.credentials.map((asset, index) => ({
      asset,
      path: ['scope', 'credentials', index, 'connection'],
    })),
    ...request.scope.dataSets.map((asset, index) => ({
      asset,
      path: ['scope', 'dataSets', index, 'connection'],
    })),
    // An export's destination bucket is a connection too, of type s3.
    ...request.scope.dataSets.flatMap((set, index) =>
      typeof set.destination === 'object'
        ? [
            {
              asset: { connector: 's3', connection: set.destination.connection },
              path: ['scope', 'dataSets', index, 'destination', 'connection'],
            },
          ]
        : [],
    ),
    ...request.scope.backupJobs.map((asset, index) => ({
      asset,
      path: ['scope', 'backupJobs', index, 'connection'],
    })),
  ].filter(({ asset }) => asset.connector !== 'manual' && asset.connection);
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const { asset, path } of assets) {
    const id = asset.connection!;
    const connection = await store.get(id);
    const problem = !connection
      ? `there is no connection ${id}`
      : connection.type !== asset.connector
        ? `connection ${id} is of type ${connection.type}, not ${asset.connector}`
        : connection.clientId !== null && connection.clientId !== request.client.id
          ? `connection ${id} belongs to client ${connection.clientId}`
          : null;
    if (problem) issues.push({ path, message: problem });
  }
  if (issues.length > 0)
    throw new HttpError(
      400,
      'invalid_request',
      `invalid body: ${issues.map((issue) => `${issue.message} (at ${issue.path.join('.')})`).join('; ')}`,
      issues,
    );
}
