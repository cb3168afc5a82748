// Manual tasks: one per asset of a step, emailed to the operators; the step waits until each is
// completed with evidence (an Update whose validator refuses a task that is not open).
import { condition, setHandler } from '@temporalio/workflow';
import { completeTaskUpdate, type TaskState } from '../../domain/definitions.js';
import type { StepKey } from '../../domain/schemas.js';
import type { Effects } from './effects.js';
import { conflict, invalid, notFound, nowIso, type RunbookState } from './state.js';

/** A task to open: the asset it is about and what to do. */
export interface TaskSpec {
  id: string;
  title: string;
  evidenceNeeded?: TaskState['evidenceNeeded'];
}

export class Tasks {
  constructor(
    private readonly runbook: RunbookState,
    private readonly effects: Effects,
  ) {
    const { state } = runbook;
    setHandler(
      completeTaskUpdate,
      (request) => {
        const task = state.tasks.find((candidate) => candidate.id === request.taskId)!;
        task.status = 'completed';
        task.completedAt = nowIso();
        task.completedBy = request.actor;
        if (request.actorHolder) task.completedByHolder = request.actorHolder;
        task.evidence = request.evidence;
        return task;
      },
      {
        validator: (request) => {
          const task = state.tasks.find((candidate) => candidate.id === request.taskId);
          if (!task) throw notFound(`no task ${request.taskId}`);
          if (task.status !== 'open') throw conflict(`task ${task.id} is already ${task.status}`);
          if (!request.evidence?.text?.trim()) throw invalid('evidence.text is required');
          if (task.evidenceNeeded === 'restore') {
            const restore = request.evidence.restore;
            if (!restore)
              throw invalid('evidence.restore (startedAt, endedAt, integrityCheck, verifiedBy) is required');
            if (!(Date.parse(restore.endedAt) >= Date.parse(restore.startedAt)))
              throw invalid('evidence.restore.endedAt must not be before startedAt');
          }
        },
      },
    );
  }

  /** Opens a task per asset, emails the list to the operators, and waits until each is completed. */
  async complete(key: StepKey, assets: TaskSpec[]): Promise<TaskState[]> {
    if (assets.length === 0) return [];
    const { state } = this.runbook;
    const tasks: TaskState[] = assets.map((asset) => ({
      id: `${key}.${asset.id}`,
      step: key,
      assetId: asset.id,
      title: asset.title,
      status: 'open',
      ...(asset.evidenceNeeded ? { evidenceNeeded: asset.evidenceNeeded } : {}),
      createdAt: nowIso(),
    }));
    state.tasks.push(...tasks);
    this.runbook.setStepStatus(key, 'awaiting-task');
    await this.effects.sendEmail({
      audit: { v: 1, event: 'tasks-created' },
      idempotencyKey: `${state.id}:${key}:tasks`,
      to: this.runbook.operatorEmails(),
      template: 'tasks',
      data: {
        transitionId: state.id,
        clientName: state.clientName,
        step: key,
        title: this.runbook.titleOf(key),
        tasks,
      },
    });
    await condition(() => tasks.every((task) => task.status !== 'open'));
    this.runbook.setStepStatus(key, 'running');
    return tasks;
  }
}
