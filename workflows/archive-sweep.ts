// The archive sweep, run every hour by a Temporal Schedule: a transition terminated from outside (or
// timed out) never runs its own close, so its history would vanish with Temporal's retention before
// an auditor asks. The sweep archives those next to their documents.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

/** How far back each sweep looks: twice the schedule's interval, so a late or missed run loses nothing. */
export const sweepWindowMillis = 2 * 60 * 60 * 1000;
export const sweepIntervalMinutes = 60;

const sweep = proxyActivities<Pick<Activities, 'archiveClosedRuns'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/** Archives the histories of transitions ended from outside within the last window. */
export async function archiveSweepWorkflow(): Promise<number> {
  return sweep.archiveClosedRuns({ closedAfter: new Date(Date.now() - sweepWindowMillis).toISOString() });
}
