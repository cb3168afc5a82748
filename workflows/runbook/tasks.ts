// Manual tasks: one per asset of a step, emailed to the operators; the step waits until each is
// completed with evidence (an Update whose validator refuses a task that is not open).
import { condition, patched, setHandler } from '@temporalio/workflow';
import { completeTaskUpdate, type TaskState } from '../../domain/definitions.js';
import type { StepKey } from '../../domain/schemas.js';
import { Automation, type TaskAutomationSpec } from './automation.js';
import type { Effects } from './effects.js';
import { patches } from './patches.js';
import { conflict, invalid, notFound, nowIso, type RunbookState } from './state.js';

/** A task to open: the asset it is about and what to do. */
export interface TaskSpec {
  id: string;
  title: string;
  evidenceNeeded?: TaskState['evidenceNeeded'];
  /** The automated connector that does it first, when the asset names one. */
  automation?: TaskAutomationSpec;
}

export class Tasks {
  readonly automation: Automation;

  constructor(
    private readonly runbook: RunbookState,
    private readonly effects: Effects,
  ) {
    this.automation = new Automation(runbook, effects);
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

  /**
   * Opens a task per asset (reusing those `automate` opened), lets each automated connector do its
   * asset first, emails the tasks left for people to the operators, and waits until each is completed.
   */
  async complete(key: StepKey, assets: TaskSpec[]): Promise<TaskState[]> {
    if (assets.length === 0) return [];
    const { state } = this.runbook;
    // Tasks a connector ran before (a credential rotation automates before its hand-over) are not opened again.
    const earlier = state.tasks.filter((task) => task.step === key && task.automation);
    const fresh = assets.filter((asset) => !earlier.some((task) => task.assetId === asset.id));
    const automated = await this.automate(key, fresh);
    const manual = fresh.filter((asset) => !automated.some((task) => task.assetId === asset.id));
    const tasks = [...earlier, ...automated, ...this.open(key, manual)];
    const forPeople = tasks.filter((task) => task.status === 'open');
    if (forPeople.length === 0) return tasks;
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
        tasks: forPeople,
      },
    });
    await condition(() => tasks.every((task) => task.status !== 'open'));
    this.runbook.setStepStatus(key, 'running');
    return tasks;
  }

  /**
   * Opens the tasks of `assets` that name an automated connector and lets each connector do its asset:
   * done and verified, the task is completed with the evidence; otherwise it stays open with the error.
   * Runs on code before connector automation (and assets without a connector) open nothing here.
   */
  async automate(key: StepKey, assets: TaskSpec[]): Promise<TaskState[]> {
    const automated = assets.filter((asset) => asset.automation);
    if (automated.length === 0 || !patched(patches.connectorAutomation)) return [];
    const tasks = this.open(key, automated);
    await this.automation.run(
      key,
      tasks.map((task, index) => ({ task, spec: automated[index]!.automation! })),
    );
    return tasks;
  }

  private open(key: StepKey, assets: TaskSpec[]): TaskState[] {
    const tasks: TaskState[] = assets.map((asset) => ({
      id: `${key}.${asset.id}`,
      step: key,
      assetId: asset.id,
      title: asset.title,
      status: 'open',
      ...(asset.evidenceNeeded ? { evidenceNeeded: asset.evidenceNeeded } : {}),
      createdAt: nowIso(),
    }));
    this.runbook.state.tasks.push(...tasks);
    return tasks;
  }
}
