// The databases port (docs/design.md §8): a client's database server. `postgres.ts` is its adapter.
import type { AutomationEvidence, DumpRecord } from '../../domain/automation.js';

export interface Database {
  /** A real round trip: logs in as the connection and asks the server its version. */
  check(): Promise<{ detail: string }>;
  /**
   * Sets `role`'s password, then checks that it logs in and that `previousPassword`, when the
   * runbook knew it, is refused.
   */
  rotatePassword(role: string, newPassword: string, previousPassword?: string): Promise<AutomationEvidence>;
  /** Takes `role`'s login and password away; then checks that `previousPassword`, when known, is refused. */
  disableRole(role: string, previousPassword?: string): Promise<AutomationEvidence>;
  /**
   * Restores a fresh dump of the connection's database into a scratch database, checks that every
   * table came back with as many rows, times the restore and drops the scratch copy.
   */
  validateRestore(): Promise<AutomationEvidence>;
  /**
   * Dumps `database` (by default the connection's) with `pg_dump` in its custom format into `file`,
   * then checks that `pg_restore --list` reads the dump back.
   */
  dump(file: string, database?: string): Promise<DumpRecord>;
  /**
   * Drops `database` (by default the connection's; sessions on it ended), then checks that the
   * server lists it no more and refuses a connection to it.
   */
  dropDatabase(database?: string): Promise<AutomationEvidence>;
}
