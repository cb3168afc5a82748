// One step of a runbook alone on the time-skipping server: the harness workflow
// (test/workflows/harness/workflows.ts) runs the real step definition on the real engine, with the
// real activities, and the step's document is `01-<key>`.
import path from 'node:path';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { projectRoot } from '../../config/config.js';
import type { StepHarnessInput, stepHarnessWorkflow } from '../workflows/harness/workflows.js';
import { useWorkflowEnv, type SentMail, type WorkflowEnv } from './workflow-env.js';

export const stepHarnessPath = path.join(projectRoot, 'test', 'workflows', 'harness', 'workflows.ts');

export type StepHandle = WorkflowHandleWithFirstExecutionRunId<typeof stepHarnessWorkflow>;

/** The file's time-skipping environment, with the harness bundled instead of the real workflows. */
export function useStepHarness(name: string): WorkflowEnv {
  return useWorkflowEnv({ workflowsPath: stepHarnessPath, name });
}

let started = 0;

/**
 * Starts the harness for `input` (workflow id `<kind>-<client id>`, as the API names transitions)
 * on a worker of its own, and runs `body` while that worker polls.
 */
export async function withStep<T>(
  workflows: WorkflowEnv,
  input: StepHarnessInput,
  body: (handle: StepHandle, sent: SentMail[]) => Promise<T>,
): Promise<T> {
  started += 1;
  const taskQueue = `${input.step}-${started}`;
  return workflows.withWorker(taskQueue, async (sent) => {
    const handle = await workflows.env.client.workflow.start<typeof stepHarnessWorkflow>(
      'stepHarnessWorkflow',
      {
        taskQueue,
        workflowId: `${input.kind}-${input.request.client.id}`,
        args: [input],
      },
    );
    return body(handle, sent);
  });
}
