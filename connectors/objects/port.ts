// The object-storage port (docs/design.md §8): the bucket exports go to and retained copies are
// deleted from. `s3.ts` is its adapter.
import type { AutomationEvidence, ExportedObject } from '../../domain/automation.js';

export interface ObjectStorage {
  /** A real round trip: lists (at most one key of) the bucket under the connection's prefix. */
  check(): Promise<{ detail: string }>;
  /**
   * Uploads `file` as `key` (under the connection's prefix) with its SHA-256 for the server to check,
   * then reads it back (HEAD for the size, the whole object for the SHA-256); its manifest entry.
   */
  upload(key: string, file: string): Promise<ExportedObject>;
  /** Reads `object` back: its size and SHA-256 must be the manifest's, or the verification fails. */
  verify(object: ExportedObject): Promise<void>;
  /** Deletes every object under `prefix` (under the connection's), with all its versions; then checks the listing is empty. */
  deletePrefix(prefix: string): Promise<AutomationEvidence>;
}
