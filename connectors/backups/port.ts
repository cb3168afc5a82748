// The backups port (docs/design.md §8): a client's backup repository. `restic.ts` is its adapter.
import type { AutomationEvidence, DataSource, DumpRecord } from '../../domain/automation.js';

export interface Backups {
  /** A real round trip: opens the repository and counts its snapshots. */
  check(): Promise<{ detail: string }>;
  /**
   * Restores the latest snapshot of `source` into a scratch folder, verifies it (the repository's
   * data, each file against the snapshot), records its start, end and size, and removes the copy.
   */
  validateRestore(source?: DataSource): Promise<AutomationEvidence>;
  /** Writes the latest snapshot of `source` as a tar archive (`restic dump --archive tar`) into `file`. */
  dump(file: string, source?: DataSource): Promise<DumpRecord>;
  /** Forgets and prunes every snapshot of `source`, then checks that none is left. */
  deleteSnapshots(source?: DataSource): Promise<AutomationEvidence>;
}
