// The errors every connector adapter throws: a stable type (domain/automation.ts) and a message that
// names what failed and never a secret. The activities turn them into Temporal failures of that type.
import { connectorFailureTypes, type ConnectorFailureType } from '../domain/automation.js';

export class ConnectorError extends Error {
  constructor(
    readonly type: ConnectorFailureType,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

export const authRefused = (message: string) =>
  new ConnectorError(connectorFailureTypes.authRefused, message);
export const hostKeyMismatch = (message: string) =>
  new ConnectorError(connectorFailureTypes.hostKeyMismatch, message);
export const notConfigured = (message: string) =>
  new ConnectorError(connectorFailureTypes.notConfigured, message);
export const verificationFailed = (message: string) =>
  new ConnectorError(connectorFailureTypes.verificationFailed, message);
export const unreachable = (message: string) =>
  new ConnectorError(connectorFailureTypes.unreachable, message);
