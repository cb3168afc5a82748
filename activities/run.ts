import { Context } from '@temporalio/activity';
import type { RunRef } from '../connectors/documents/port.js';

/** The run this activity works for: whatever it writes outside the workflow is keyed by it. */
export function currentRun(): RunRef {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('runbook activities run only for a workflow run');
  return { transitionId: execution.workflowId, runId: execution.runId };
}
