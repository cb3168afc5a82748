// The Temporal Schedule that runs the archive sweep every hour; made once, idempotently, by each
// worker at start (a second worker finds it in place).
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { sweepIntervalMinutes } from '../workflows/archive-sweep.js';

export const archiveSweepScheduleId = 'archive-sweep';

export async function ensureArchiveSweep(client: Client, taskQueue: string): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: archiveSweepScheduleId,
      spec: { intervals: [{ every: `${sweepIntervalMinutes} minutes` }] },
      action: { type: 'startWorkflow', workflowType: 'archiveSweepWorkflow', taskQueue, args: [] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
}
