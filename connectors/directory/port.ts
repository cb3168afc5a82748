// The directory port (docs/design.md §8): passwords and accounts in a client's directory. `ldap.ts` is its adapter.
import type { AutomationEvidence } from '../../domain/automation.js';

export interface Directory {
  /** A real round trip: binds as the connection and reads its base DN. */
  check(): Promise<{ detail: string }>;
  /** Whether `dn` binds with `password` (a refused bind is `false`, an unreachable directory throws). */
  binds(dn: string, password: string): Promise<boolean>;
  /**
   * Sets `accountDn`'s password, then checks that it binds and that `previousPassword`, when the
   * runbook knew it, no longer does.
   */
  rotatePassword(
    accountDn: string,
    newPassword: string,
    previousPassword?: string,
  ): Promise<AutomationEvidence>;
  /** Removes every password of `accountDn`, so no bind as it succeeds; then checks that. */
  disableAccount(accountDn: string, previousPassword?: string): Promise<AutomationEvidence>;
}
