// The one place where workflows get their activity stubs, with the timeouts and retry policy that
// go with each. Retries are bounded: an activity that keeps failing comes back to the workflow,
// which marks the step stalled, tells the operators, and tries again later (see effects.ts).
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { nonRetryableErrorTypes } from '../../domain/definitions.js';

const retry: ActivityOptions['retry'] = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  // About 15 seconds of retries before the workflow hears of it and the step shows as stalled.
  maximumAttempts: 5,
  nonRetryableErrorTypes: [...nonRetryableErrorTypes],
};

const mail = proxyActivities<Pick<Activities, 'sendEmail'>>({ startToCloseTimeout: '1 minute', retry });
const links = proxyActivities<Pick<Activities, 'sendLinks'>>({ startToCloseTimeout: '2 minutes', retry });
const documents = proxyActivities<Pick<Activities, 'writeDocument'>>({
  startToCloseTimeout: '2 minutes',
  retry,
});
const archive = proxyActivities<Pick<Activities, 'archiveHistory'>>({
  startToCloseTimeout: '5 minutes',
  retry,
});

// A chunk of assets through their connectors: long (agent installers are slow), so it heartbeats; a
// worker that dies is noticed within a minute. An asset's own failure is an outcome, not a failure.
const connectors = proxyActivities<Pick<Activities, 'automateAssets'>>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry,
});
const inputs = proxyActivities<Pick<Activities, 'readScopePage' | 'readCheckpointSlice'>>({
  startToCloseTimeout: '1 minute',
  retry,
});
const checkpoints = proxyActivities<Pick<Activities, 'storeCheckpoint'>>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry,
});

/** Unguarded: the notice of a stall must not itself wait on the stall it reports. */
export const sendStallNotice = mail.sendEmail;

/** Runs one activity call; the runbook's guard decides what a failure after all retries means. */
export type ActivityGuard = <T>(activity: keyof Activities, call: () => Promise<T>) => Promise<T>;

/** The activities as the runbook calls them, each through `guard`. */
export function guardedActivities(guard: ActivityGuard) {
  return {
    sendEmail: (input: Parameters<Activities['sendEmail']>[0]) =>
      guard('sendEmail', () => mail.sendEmail(input)),
    sendLinks: (input: Parameters<Activities['sendLinks']>[0]) =>
      guard('sendLinks', () => links.sendLinks(input)),
    writeDocument: (input: Parameters<Activities['writeDocument']>[0]) =>
      guard('writeDocument', () => documents.writeDocument(input)),
    readScopePage: (input: Parameters<Activities['readScopePage']>[0]) =>
      guard('readScopePage', () => inputs.readScopePage(input)),
    storeCheckpoint: (input: Parameters<Activities['storeCheckpoint']>[0]) =>
      guard('storeCheckpoint', () => checkpoints.storeCheckpoint(input)),
    readCheckpointSlice: (input: Parameters<Activities['readCheckpointSlice']>[0]) =>
      guard('readCheckpointSlice', () => inputs.readCheckpointSlice(input)),
    archiveHistory: (input: Parameters<Activities['archiveHistory']>[0]) =>
      guard('archiveHistory', () => archive.archiveHistory(input)),
    automateAssets: (input: Parameters<Activities['automateAssets']>[0]) =>
      guard('automateAssets', () => connectors.automateAssets(input)),
  };
}

export type GuardedActivities = ReturnType<typeof guardedActivities>;
