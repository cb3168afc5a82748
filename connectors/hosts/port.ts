// The hosts port (docs/design.md §8): what the runbook does on one machine. `ssh.ts` is its adapter.
import type { AutomationEvidence } from '../../domain/automation.js';

/** What an automated step did to one asset: the evidence, and for a discovery the facts in it. */
export type HostOutcome = AutomationEvidence;

export interface Host {
  /** A real round trip: logs in and asks the host its name. */
  check(): Promise<{ detail: string }>;
  /** Runs each agent's `install` unless its `check` already passes; then each `check` must pass. */
  deployAgents(agents: readonly string[]): Promise<HostOutcome>;
  /** Runs each agent's `uninstall` unless its `check` already fails; then each `check` must fail. */
  removeAgents(agents: readonly string[]): Promise<HostOutcome>;
  /** Hostname, OS, uptime, and which configured agents' checks pass. */
  discover(): Promise<HostOutcome>;
  /**
   * Sets a local account's password (`chpasswd`, the password on stdin), then checks that it logs
   * in and that `previousPassword`, when the runbook knew it, no longer does.
   */
  rotatePassword(account: string, newPassword: string, previousPassword?: string): Promise<HostOutcome>;
  /**
   * Locks and expires a local account, ends its processes and removes its `authorized_keys`; then
   * checks that a login as the account is refused.
   */
  revokeAccount(account: string, previousPassword?: string): Promise<HostOutcome>;
}
