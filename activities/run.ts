import { Context } from '@temporalio/activity';
import type { RunRef } from '../connectors/documents/port.js';

/** The first run of each running activity's workflow run chain, from the header the run set. */
export const chainOfActivity = new WeakMap<Context, string>();

/** The workflow run executing this activity, for what it asks of that very run (its history, a query). */
export function currentExecution(): RunRef {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('runbook activities run only for a workflow run');
  return { transitionId: execution.workflowId, runId: execution.runId };
}

/**
 * The run this activity works for: whatever it writes outside the workflow is keyed by it. A run that
 * continued as new is still its chain's first run to everyone, so a retried side effect is not repeated.
 */
export function currentRun(): RunRef {
  const execution = currentExecution();
  return {
    transitionId: execution.transitionId,
    runId: chainOfActivity.get(Context.current()) ?? execution.runId,
  };
}
