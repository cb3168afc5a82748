import type { SecretReference } from '../../domain/definitions.js';
import type { ConnectionRequest } from './settings.js';

/** Each type's request without the secret (Omit over each member of the union, not over the union). */
type WithoutSecret<T> = T extends unknown ? Omit<T, 'secret' | 'clientId'> : never;

/** A connection as stored and answered: its settings and the reference of its secret, never the secret. */
export type Connection = WithoutSecret<ConnectionRequest> & {
  /** null: a connection of the MSP itself. */
  clientId: string | null;
  secretRef: SecretReference;
  createdAt: string;
  createdBy: string;
};

/** Where connections live, shared by the API (which manages them) and the worker (which uses them). */
export interface ConnectionStore {
  /** Stores a new connection; false when one with its id exists (nothing is replaced). */
  create(connection: Connection): Promise<boolean>;
  get(id: string): Promise<Connection | null>;
  /** Every connection, by id. */
  list(): Promise<Connection[]>;
  /** Removes a connection; false when there was none. */
  delete(id: string): Promise<boolean>;
}
