// The state every client reads (the state query, the search attributes) and the small helpers every
// part of the runbook shares. Deterministic: no I/O here.
import { ApplicationFailure, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  failureTypes,
  searchAttributes,
  type ControlRecord,
  type ControlRequest,
  type RunbookInput,
  type StepState,
  type TaskCounts,
  type TaskState,
  type TransitionContacts,
  type TransitionState,
} from '../../domain/definitions.js';
import type { Person, StartRequest, StepKey } from '../../domain/schemas.js';

export function nowIso(): string {
  // Date.now() is deterministic inside workflows: it is the time of the current workflow task.
  return new Date(Date.now()).toISOString();
}

export function conflict(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: failureTypes.conflict, message, nonRetryable: true });
}

export function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: failureTypes.invalid, message, nonRetryable: true });
}

export function notFound(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: failureTypes.notFound, message });
}

/** How many open tasks the state carries; the rest are read by pages (`tasksQuery`). */
export const openTasksInState = 100;

export function countTasks(tasks: readonly TaskState[]): TaskCounts {
  const counts: TaskCounts = { total: tasks.length, open: 0, completed: 0, cancelled: 0 };
  for (const task of tasks) counts[task.status]++;
  return counts;
}

function firstOpen(tasks: readonly TaskState[]): TaskState[] {
  const open: TaskState[] = [];
  for (const task of tasks) {
    if (open.length === openTasksInState) break;
    if (task.status === 'open') open.push(task);
  }
  return open;
}

/** The transition's state, and who may act on it. */
export class RunbookState {
  readonly state: TransitionState;
  /** The client's approvers now: an operator may reassign one (the request keeps the original list). */
  readonly approvers: Person[];
  /** The timer being waited on; its deadline is a function so an extension shows at once. */
  activeTimer: { name: string; deadline: () => string } | null = null;
  private readonly titles: Map<StepKey, string>;

  constructor(
    readonly request: RunbookInput<StartRequest>,
    steps: readonly { key: StepKey; title: string }[],
  ) {
    this.titles = new Map(steps.map((step) => [step.key, step.title]));
    this.approvers = request.contacts.approvers.map((person) => ({ ...person }));
    this.state = {
      id: workflowInfo().workflowId,
      kind: request.kind,
      clientId: request.client.id,
      clientName: request.client.name,
      timezone: request.client.timezone,
      status: 'running',
      startedBy: request.startedBy,
      currentStep: null,
      dates: { startedAt: nowIso() },
      paused: false,
      legalHold: false,
      steps: steps.map((step) => ({ key: step.key, status: 'pending' })),
      tasks: [],
      approvals: [],
      credentials: [],
      nextTimer: null,
      controls: [],
      build: { startedOn: workflowInfo().currentDeploymentVersion?.buildId },
    };
  }

  get id(): string {
    return this.state.id;
  }

  titleOf(key: StepKey): string {
    return this.titles.get(key) ?? key;
  }

  stepState(key: StepKey): StepState {
    const step = this.state.steps.find((candidate) => candidate.key === key);
    if (!step) throw ApplicationFailure.nonRetryable(`unknown step ${key}`);
    return step;
  }

  setStepStatus(key: StepKey, status: StepState['status']): void {
    this.stepState(key).status = status;
  }

  operatorEmails(): string[] {
    return this.request.contacts.operators.map((person) => person.email);
  }

  isApprover(email: string): boolean {
    return this.approvers.some((person) => person.email === email);
  }

  /** Who the client's pages name, and whom they tell the client to contact. */
  contacts(): TransitionContacts {
    return {
      transitionId: this.state.id,
      kind: this.state.kind,
      clientName: this.state.clientName,
      timezone: this.state.timezone,
      requestedBy: this.request.requestedBy,
      operators: this.request.contacts.operators,
    };
  }

  /** Records an attributed control (who, why, when) in the state every client reads. */
  recordControl(
    action: ControlRecord['action'],
    request: ControlRequest,
    details?: Record<string, string>,
  ): void {
    this.state.controls.push({ action, actor: request.actor, reason: request.reason, at: nowIso(), details });
  }

  /** Publishes the status and the current step as search attributes, for lists through visibility. */
  publish(): void {
    upsertSearchAttributes({
      [searchAttributes.transitionStatus.name]: [this.state.status],
      [searchAttributes.currentStep.name]: this.state.currentStep ? [this.state.currentStep] : [],
    });
  }

  /**
   * The state as clients see it, with the next timer computed from the current dates. It counts the
   * tasks and carries the first page of open ones (the rest by pages), so it stays small at any scope.
   */
  snapshot(): TransitionState {
    const timer = this.activeTimer;
    return {
      ...this.state,
      tasks: firstOpen(this.state.tasks),
      taskCounts: countTasks(this.state.tasks),
      nextTimer: timer ? { name: timer.name, firesAt: timer.deadline() } : null,
      build: { ...this.state.build, current: workflowInfo().currentDeploymentVersion?.buildId },
      workflowRuns: (this.request.continued?.part ?? 0) + 1,
    };
  }
}
