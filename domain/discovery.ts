// The onboarding's discovery report (docs/design.md §3): the request's scope is the starting inventory;
// connectors may add what they find. Pure, so the report and its gaps are the same on every replay.
import type { Scope } from './schemas.js';

export interface DiscoveryGap {
  kind: 'server-without-backup' | 'backup-for-unknown-device' | 'device-without-agent';
  assetId: string;
  message: string;
}

export interface DiscoveryReport {
  devices: Scope['devices'];
  accounts: Scope['credentials'];
  backupJobs: Scope['backupJobs'];
  gaps: DiscoveryGap[];
}

/** Lists devices, accounts and backup jobs and flags what an onboarding must not miss. */
export function discoveryReport(scope: Scope): DiscoveryReport {
  const deviceIds = new Set(scope.devices.map((device) => device.id));
  const backedUp = new Set(scope.backupJobs.map((job) => job.device));
  const gaps: DiscoveryGap[] = [
    ...scope.devices
      .filter((device) => device.type === 'server' && !backedUp.has(device.id))
      .map((device) => ({
        kind: 'server-without-backup' as const,
        assetId: device.id,
        message: `server ${device.hostname} has no backup job`,
      })),
    ...scope.backupJobs
      .filter((job) => !deviceIds.has(job.device))
      .map((job) => ({
        kind: 'backup-for-unknown-device' as const,
        assetId: job.id,
        message: `backup job ${job.id} protects ${job.device}, which is not in the device inventory`,
      })),
    ...scope.devices
      .filter((device) => device.agents.length === 0)
      .map((device) => ({
        kind: 'device-without-agent' as const,
        assetId: device.id,
        message: `${device.hostname} has no agent planned`,
      })),
  ];
  return { devices: scope.devices, accounts: scope.credentials, backupJobs: scope.backupJobs, gaps };
}
