// A run continues as new once its history has grown by its budget, between steps: the new workflow
// run takes back the runbook's memory, and while it reads a stored checkpoint back it refuses queries
// and Updates as `resuming` rather than answering from a blank state.
import { QueryNotRegisteredError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  completeTasksUpdate,
  failureTypes,
  linkOpenedSignal,
  pauseUpdate,
  stateQuery,
} from '../../domain/definitions.js';
import type { StepKey } from '../../domain/schemas.js';
import { allTasks, useWorkflowEnv, waitFor } from '../support/workflow-env.js';

const workflows = useWorkflowEnv({ name: 'continue-as-new' });

const devices = Array.from({ length: 400 }, (_, index) => ({
  id: `ws-${index}`,
  hostname: `ws-${index}.acme.local`,
  type: 'workstation',
  agents: ['rmm'],
}));
const operator = { actor: 'ops-key', reason: 'checking on it' };

describe('continue-as-new at a step boundary', () => {
  it('carries tasks, dates and documents into the next run, which refuses to answer until it has them', async () => {
    const request = await workflows.requestNow({
      scope: {
        devices,
        credentials: [{ id: 'domain-admin', system: 'Active Directory', account: 'msp-admin' }],
        dataSets: [{ id: 'ehr', description: 'EHR backups' }],
      },
    });
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let resumingReached = false;
    await workflows.withWorker(
      'continue-as-new-1',
      async () => {
        const { env } = workflows;
        const handle = await env.client.workflow.start('offboardingWorkflow', {
          taskQueue: 'continue-as-new-1',
          workflowId: `offboarding-${request.client.id}`,
          args: [{ ...request, historyBudget: { events: 10_000, bytes: 200 * 1024 } }],
        });
        const complete = async (step: StepKey) => {
          const open = await waitFor(async () => {
            const tasks = await allTasks(handle, { step, status: 'open' });
            return tasks.length ? tasks : undefined;
          });
          for (let start = 0; start < open.length; start += 200)
            await handle.executeUpdate(completeTasksUpdate, {
              args: [
                {
                  actor: 'ops-key',
                  items: open.slice(start, start + 200).map((task) => ({
                    taskId: task.id,
                    evidence: { text: `${task.id}: done. ${'uninstall log line; '.repeat(40)}` },
                  })),
                },
              ],
            });
        };
        await complete('data-export');
        await env.sleep('31 days');
        await complete('agent-removal');

        // The run continues after the 400 removals; the next run is held reading its checkpoint.
        await waitFor(async () => resumingReached || undefined);
        const resuming = await handle.query(stateQuery).then(
          () => null,
          (error: unknown) => error as Error,
        );
        const refused: unknown = await handle
          .executeUpdate(pauseUpdate, { args: [operator] })
          .catch((error: unknown) => error);
        // Queries that come with a workflow task (a signal's): refused, they must not fail the task.
        await Promise.all(
          Array.from({ length: 10 }, async (_, index) => {
            await handle.signal(linkOpenedSignal, {
              tokenHash: `unknown-${index}`,
              ip: '127.0.0.1',
              userAgent: 'test',
            });
            await handle.query(stateQuery).catch(() => undefined);
          }),
        );
        // Released before any check: a held activity would keep the worker from shutting down.
        release();
        // The refusal's text is encrypted like every failure's; its kind shows (the API asks again).
        expect(resuming).toBeInstanceOf(QueryNotRegisteredError);
        expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
        expect((refused as WorkflowUpdateFailedError).cause).toBeInstanceOf(ApplicationFailure);
        expect(((refused as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe(
          failureTypes.resuming,
        );

        const state = await waitFor(async () => {
          const current = await handle.query(stateQuery).catch(() => undefined);
          return current?.currentStep === 'credential-rotation' ? current : undefined;
        });
        const { events } = await handle.fetchHistory();
        expect(events!.filter((event) => event.workflowTaskFailedEventAttributes)).toEqual([]);
        expect(state.taskCounts).toEqual({ total: 401, open: 0, completed: 401, cancelled: 0 });
        expect(state.steps.slice(0, 4).map((step) => [step.key, step.status, step.documentId])).toEqual([
          ['termination-notice', 'completed', '01-termination-notice'],
          ['data-export', 'completed', '02-data-export'],
          ['cutover', 'completed', '03-cutover'],
          ['agent-removal', 'completed', '04-agent-removal'],
        ]);
        expect(state.controls).toEqual([]);
        const removals = await allTasks(handle, { step: 'agent-removal' });
        expect(removals).toHaveLength(400);
        expect(removals[0]).toMatchObject({ evidenceIn: '04-agent-removal', status: 'completed' });
        expect(removals[0]!.evidence!.text).toMatch(/^agent-removal\.ws-0: done\..{200,}…$/);

        // One chain of documents, in the first run's folder.
        const documents = await workflows.documentsOf(handle);
        expect(documents.map((doc) => doc.id)).toEqual([
          '01-termination-notice',
          '02-data-export',
          '03-cutover',
          '04-agent-removal',
        ]);
        expect(documents.map((doc) => doc.previousSha256)).toEqual([
          null,
          ...documents.slice(0, 3).map((doc) => doc.sha256),
        ]);
        const removalRecord = await workflows.documentText(handle, '04-agent-removal');
        expect(removalRecord).toContain('uninstall log line; '.repeat(40).trim());

        // Pausing works again once it has its memory, and the pause is in the state.
        const paused = await handle.executeUpdate(pauseUpdate, { args: [operator] });
        expect(paused.paused).toBe(true);
        await handle.terminate('test done');
      },
      {
        beforeCheckpointSlice: async () => {
          resumingReached = true;
          await held;
        },
      },
    );
  }, 180_000);
});
