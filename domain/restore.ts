// Restore validation (docs/design.md §3): a proven restore per backup job, timed against its RTO.
import type { Scope } from './schemas.js';
import type { TaskState } from './definitions.js';
import { durationMillis } from './timeline.js';

export interface RestoreResult {
  job: string;
  device: string;
  rto: string | null;
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
  /** null when the job has no RTO to measure against. */
  withinRto: boolean | null;
  integrityCheck: 'passed' | 'failed';
  verifiedBy: string;
  /** What the restore brought back, when a connector measured it. */
  restoredBytes?: number;
  restoredFiles?: number;
  /** Over its RTO or failed its integrity check: the report calls it out. */
  flagged: boolean;
}

/** One result per backup job from its completed restore task's evidence. */
export function restoreResults(jobs: Scope['backupJobs'], tasks: TaskState[]): RestoreResult[] {
  return jobs.flatMap((job) => {
    const restore = tasks.find((task) => task.assetId === job.id)?.evidence?.restore;
    if (!restore) return [];
    const durationMs = Date.parse(restore.endedAt) - Date.parse(restore.startedAt);
    const withinRto = job.rto ? durationMs <= durationMillis(job.rto) : null;
    return [
      {
        job: job.id,
        device: job.device,
        rto: job.rto ?? null,
        startedAt: restore.startedAt,
        endedAt: restore.endedAt,
        durationSeconds: Math.round(durationMs / 1000),
        withinRto,
        integrityCheck: restore.integrityCheck,
        verifiedBy: restore.verifiedBy,
        ...(restore.restoredBytes !== undefined ? { restoredBytes: restore.restoredBytes } : {}),
        ...(restore.restoredFiles !== undefined ? { restoredFiles: restore.restoredFiles } : {}),
        flagged: withinRto === false || restore.integrityCheck !== 'passed',
      },
    ];
  });
}
