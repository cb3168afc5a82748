// What every adapter's work leaves as evidence: which connector reached which system, what ran,
// what was checked, and when. Each adapter binds its own connector, connection and target once.
import type { AutomationEvidence, CommandRun, Verification } from '../domain/automation.js';

export function evidenceFor(connector: string, connection: string, target: string) {
  return (
    startedAt: string,
    commands: CommandRun[],
    verifications: Verification[],
    extra: Partial<AutomationEvidence> = {},
  ): AutomationEvidence => ({
    connector,
    connection,
    target,
    commands,
    verifications,
    ...extra,
    startedAt,
    finishedAt: new Date().toISOString(),
  });
}
