// Manual tasks: one per asset of a step, emailed to the operators; the step waits until each is
// completed with evidence, one at a time or in batches (Updates whose validators refuse a task that
// is not open). A step may have thousands: they are kept indexed, counted, and read by pages.
import { condition, patched, setHandler } from '@temporalio/workflow';
import {
  completeTasksUpdate,
  completeTaskUpdate,
  maxTaskPage,
  tasksQuery,
  type CompleteTaskRequest,
  type Evidence,
  type KeyHolder,
  type TaskPage,
  type TaskPageRequest,
  type TaskState,
} from '../../domain/definitions.js';
import type { StepKey } from '../../domain/schemas.js';
import { Automation, type TaskAutomationSpec } from './automation.js';
import type { Effects } from './effects.js';
import { patches } from './patches.js';
import { conflict, countTasks, invalid, notFound, nowIso, type RunbookState } from './state.js';

/** A task to open: the asset it is about and what to do. */
export interface TaskSpec {
  id: string;
  title: string;
  evidenceNeeded?: TaskState['evidenceNeeded'];
  excludedCompleter?: TaskState['excludedCompleter'];
  /** The automated connector that does it first, when the asset names one. */
  automation?: TaskAutomationSpec;
}

/** Who completes a task: the key's name and, when it names one, the person. */
type Completer = Pick<CompleteTaskRequest, 'actor' | 'actorHolder'>;

/** Whether the caller is the one a task's `excludedCompleter` names: the same key, or the same person. */
function isExcluded(task: TaskState, by: Completer): boolean {
  const excluded = task.excludedCompleter;
  if (!excluded) return false;
  const person = (holder?: KeyHolder) => holder?.name.trim().toLowerCase();
  return (
    by.actor === excluded.key || (!!excluded.holder && person(by.actorHolder) === person(excluded.holder))
  );
}

function excludedMessage({ key, holder }: NonNullable<TaskState['excludedCompleter']>): string {
  const who = holder ? `${holder.name} (key ${key})` : `key ${key}`;
  return `this task checks the work of ${who}; another person must complete it`;
}

/** The most characters of evidence text a finished step's task keeps once the run continues as new. */
const carriedEvidenceCharacters = 280;

/** How many tasks the task-list email names; the rest are counted and linked to the console. */
const emailedTaskTitles = 20;
/** Where a page stops early, so a page of tasks with long evidence stays a small answer. */
const pageCharacters = 128 * 1024;

export class Tasks {
  private readonly byId = new Map<string, TaskState>();
  readonly automation: Automation;

  constructor(
    private readonly runbook: RunbookState,
    private readonly effects: Effects,
  ) {
    this.automation = new Automation(runbook, effects, (taskId) => this.byId.get(taskId));
    setHandler(completeTaskUpdate, (request) => this.completeOne(request.taskId, request.evidence, request), {
      validator: (request) => this.checkCompletable(request.taskId, request.evidence, request),
    });
    setHandler(
      completeTasksUpdate,
      (request) => {
        for (const item of request.items) this.completeOne(item.taskId, item.evidence, request);
        return { completed: request.items.length, counts: countTasks(this.runbook.state.tasks) };
      },
      {
        validator: (request) => {
          if (request.items.length === 0) throw invalid('no tasks to complete');
          if (request.items.length > maxTaskPage) throw invalid(`at most ${maxTaskPage} tasks in one batch`);
          const seen = new Set<string>();
          for (const item of request.items) {
            if (seen.has(item.taskId)) throw invalid(`task ${item.taskId} is listed twice`);
            seen.add(item.taskId);
            this.checkCompletable(item.taskId, item.evidence, request);
          }
        },
      },
    );
    setHandler(tasksQuery, (request) => this.page(request));
  }

  /** A page of tasks in the order they were opened; the cursor is the position to go on from. */
  page(request: TaskPageRequest): TaskPage {
    const all = this.runbook.state.tasks;
    const limit = Math.max(1, Math.min(Math.floor(request.limit) || 1, maxTaskPage));
    const wanted = request.ids ? new Set(request.ids) : null;
    const matches = (task: TaskState) =>
      (!request.status || task.status === request.status) &&
      (!request.step || task.step === request.step) &&
      (!wanted || wanted.has(task.id));
    const tasks: TaskState[] = [];
    let characters = 0;
    const full = () => tasks.length >= limit || characters >= pageCharacters;
    const take = (task: TaskState) => {
      tasks.push(task);
      characters += task.title.length + (task.evidence ? JSON.stringify(task.evidence).length : 0);
    };
    if (request.latest) {
      for (let position = all.length - 1; position >= 0 && !full(); position--)
        if (matches(all[position]!)) take(all[position]!);
      return { tasks, nextCursor: null, counts: countTasks(all) };
    }
    let position = Math.max(0, Math.floor(Number(request.cursor ?? 0)) || 0);
    for (; position < all.length && !full(); position++) if (matches(all[position]!)) take(all[position]!);
    while (position < all.length && !matches(all[position]!)) position++;
    return { tasks, nextCursor: position < all.length ? String(position) : null, counts: countTasks(all) };
  }

  /**
   * The tasks as a run that continues as new carries them: a finished step's task keeps a short
   * evidence text and its connector's outcome but not the connector's evidence; its step's document
   * holds all of it, and the task names that document.
   */
  carry(): TaskState[] {
    return this.runbook.state.tasks.map((task) => {
      const documentId = this.runbook.stepState(task.step).documentId;
      const text = task.evidence?.text ?? '';
      const long = text.length > carriedEvidenceCharacters || task.automation?.evidence;
      if (!documentId || !long) return task;
      const { evidence: _automationEvidence, ...automation } = task.automation ?? {};
      return {
        ...task,
        ...(task.evidence && text.length > carriedEvidenceCharacters
          ? { evidence: { ...task.evidence, text: `${text.slice(0, carriedEvidenceCharacters)}…` } }
          : {}),
        ...(task.automation ? { automation: automation as TaskState['automation'] } : {}),
        evidenceIn: documentId,
      };
    });
  }

  /** Takes back the tasks a run carried when it continued as new. */
  restore(tasks: TaskState[]): void {
    for (const task of tasks) {
      this.runbook.state.tasks.push(task);
      this.byId.set(task.id, task);
    }
  }

  private checkCompletable(taskId: string, evidence: Evidence | undefined, by: Completer): void {
    const task = this.byId.get(taskId);
    if (!task) throw notFound(`no task ${taskId}`);
    if (task.status !== 'open') throw conflict(`task ${task.id} is already ${task.status}`);
    if (!evidence?.text?.trim()) throw invalid(`evidence.text is required (task ${taskId})`);
    if (task.evidenceNeeded === 'restore') {
      const restore = evidence.restore;
      if (!restore)
        throw invalid(
          `evidence.restore (startedAt, endedAt, integrityCheck, verifiedBy) is required (task ${taskId})`,
        );
      if (!(Date.parse(restore.endedAt) >= Date.parse(restore.startedAt)))
        throw invalid(`evidence.restore.endedAt must not be before startedAt (task ${taskId})`);
    }
    if (task.evidenceNeeded === 'validation' && !evidence.validation)
      throw invalid(
        `evidence.validation (verificationMethod, verificationResult) is required (task ${taskId})`,
      );
    if (isExcluded(task, by)) throw conflict(`${task.id}: ${excludedMessage(task.excludedCompleter!)}`);
  }

  private completeOne(taskId: string, evidence: Evidence, by: Completer): TaskState {
    const task = this.byId.get(taskId)!;
    task.status = 'completed';
    task.completedAt = nowIso();
    task.completedBy = by.actor;
    if (by.actorHolder) task.completedByHolder = by.actorHolder;
    task.evidence = evidence;
    return task;
  }

  /**
   * Opens a task per asset (reusing those `automate` opened), lets each automated connector do its
   * asset first, emails a summary of the tasks left for people to the operators, and waits until
   * each is completed. A step that opens tasks more than once names each later `batch`, so each list
   * is emailed.
   */
  async complete(key: StepKey, assets: TaskSpec[], batch?: string): Promise<TaskState[]> {
    if (assets.length === 0) return [];
    const { state } = this.runbook;
    // Tasks a connector ran before (a credential rotation automates before its hand-over) are not opened again.
    const earlier = assets.flatMap((asset) => {
      const task = this.byId.get(`${key}.${asset.id}`);
      return task?.automation ? [task] : [];
    });
    const fresh = assets.filter((asset) => !this.byId.get(`${key}.${asset.id}`)?.automation);
    const automated = await this.automate(key, fresh);
    const manual = automated.length ? fresh.filter((asset) => !asset.automation) : fresh;
    const tasks = [...earlier, ...automated, ...this.open(key, manual)];
    const forPeople =
      automated.length || earlier.length ? tasks.filter((task) => task.status === 'open') : tasks;
    if (forPeople.length === 0) return tasks;
    this.runbook.setStepStatus(key, 'awaiting-task');
    await this.effects.sendEmail({
      audit: { v: 1, event: 'tasks-created' },
      idempotencyKey: `${state.id}:${key}:tasks${batch ? `:${batch}` : ''}`,
      to: this.runbook.operatorEmails(),
      template: 'tasks',
      data: {
        transitionId: state.id,
        clientName: state.clientName,
        step: key,
        title: this.runbook.titleOf(key),
        // The email names the first tasks and counts the rest: a list of thousands is no email.
        tasks: forPeople.slice(0, emailedTaskTitles),
        taskCount: forPeople.length,
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
      ...(asset.excludedCompleter ? { excludedCompleter: asset.excludedCompleter } : {}),
      createdAt: nowIso(),
    }));
    for (const task of tasks) {
      this.runbook.state.tasks.push(task);
      this.byId.set(task.id, task);
    }
    return tasks;
  }
}
