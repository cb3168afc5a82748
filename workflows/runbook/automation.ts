// The connector layer in the workflow (docs/design.md §8): a task whose asset names an automated
// connector is first done by that connector, in activities (activities/automation.ts), chunk by
// chunk, so thousands of assets make dozens of activity calls, not thousands. An asset done and
// verified completes its task with the evidence; one that failed after the connector's retries keeps
// its task open for a person, showing the error, and an operator may run its automation again
// (`retryTask`). Deterministic: the activities do the I/O and read the secrets.
import { setHandler } from '@temporalio/workflow';
import type { AutomationAction, AutomationItem, AutomationOutcome } from '../../domain/automation.js';
import { retryTaskUpdate, type SecretReference, type TaskState } from '../../domain/definitions.js';
import type { StepKey } from '../../domain/schemas.js';
import type { Effects } from './effects.js';
import { conflict, notFound, nowIso, type RunbookState } from './state.js';

/** Assets per activity call: a result of 100 small outcomes stays far under Temporal's payload limit. */
const assetsPerChunk = 100;
/** Activity calls of one step at once; each works a few assets at a time itself. */
const chunksAtOnce = 4;

/** What a task's automation does, as a step describes it: the asset id is the task's. */
export type TaskAutomationSpec = Omit<AutomationItem, 'assetId'>;

/** An asset the scope gives an automated connector, and through which connection. */
interface ConnectedAsset {
  connector: string;
  connection?: string;
}

/** The automation of one asset, or none when a person does it. */
export function automationOf(
  asset: ConnectedAsset,
  action: AutomationAction,
  details: Partial<Pick<AutomationItem, 'agents' | 'account' | 'hostname' | 'source' | 'destination'>> = {},
): TaskAutomationSpec | undefined {
  if (asset.connector === 'manual' || !asset.connection) return undefined;
  return { connector: asset.connector, connection: asset.connection, action, ...details };
}

/** The evidence text of a task its connector completed: each verification and its result. */
function summary(outcome: Extract<AutomationOutcome, { ok: true }>): string {
  const { evidence } = outcome;
  const checks = evidence.verifications.map(
    (check) => `${check.what}: ${check.passed ? 'passed' : 'FAILED'}`,
  );
  return `Done by the ${evidence.connector} connector through connection ${evidence.connection} (${evidence.target}); ${checks.join('; ') || 'nothing to verify'}.`;
}

export class Automation {
  /** What each automated task runs, by task id: kept for the retries. */
  private readonly items = new Map<string, AutomationItem>();
  private readonly secretListeners: ((task: TaskState, reference: SecretReference) => void)[] = [];

  constructor(
    private readonly runbook: RunbookState,
    private readonly effects: Effects,
    taskById: (taskId: string) => TaskState | undefined,
  ) {
    setHandler(
      retryTaskUpdate,
      (request) => {
        const task = taskById(request.taskId)!;
        task.automation!.rounds += 1;
        // Answered at once, the connector running: its work may take minutes, an Update's caller waits
        // seconds. The step waits on the task as before; only cancelling the transition stops this work.
        void this.work(task.step, [task]).catch(() => undefined);
        return task;
      },
      {
        validator: (request) => {
          const task = taskById(request.taskId);
          if (!task) throw notFound(`no task ${request.taskId}`);
          if (!task.automation || !this.items.has(task.id))
            throw conflict(`task ${task.id} has no connector to run: a person completes it`);
          if (task.status !== 'open') throw conflict(`task ${task.id} is already ${task.status}`);
          if (task.automation.status !== 'failed')
            throw conflict(`the ${task.automation.connector} connector is running task ${task.id} now`);
        },
      },
    );
  }

  /** No more retries of these tasks' connectors: what they would change was settled otherwise. */
  endRetries(tasks: readonly TaskState[]): void {
    for (const task of tasks) this.items.delete(task.id);
  }

  /** Calls `listener` with each new secret a connector vaulted (a rotation), once its task is done. */
  onSecret(listener: (task: TaskState, reference: SecretReference) => void): void {
    this.secretListeners.push(listener);
  }

  /** Runs the connectors of `tasks` (just opened, each with its spec); each ends completed or open with its error. */
  async run(key: StepKey, tasks: { task: TaskState; spec: TaskAutomationSpec }[]): Promise<void> {
    for (const { task, spec } of tasks) {
      this.items.set(task.id, { ...spec, assetId: task.assetId });
      task.automation = {
        connector: spec.connector,
        connection: spec.connection,
        status: 'running',
        rounds: 1,
      };
    }
    await this.work(
      key,
      tasks.map(({ task }) => task),
    );
  }

  private async work(key: StepKey, tasks: TaskState[]): Promise<void> {
    for (const task of tasks) task.automation!.status = 'running';
    const chunks: TaskState[][] = [];
    for (let start = 0; start < tasks.length; start += assetsPerChunk)
      chunks.push(tasks.slice(start, start + assetsPerChunk));
    for (let start = 0; start < chunks.length; start += chunksAtOnce)
      await Promise.all(chunks.slice(start, start + chunksAtOnce).map((chunk) => this.workChunk(key, chunk)));
  }

  private async workChunk(key: StepKey, tasks: TaskState[]): Promise<void> {
    const { state, request } = this.runbook;
    const outcomes = await this.effects.automateAssets({
      audit: { v: 1, event: 'automation' },
      transitionId: state.id,
      clientId: request.client.id,
      step: key,
      items: tasks.map((task) => this.items.get(task.id)!),
    });
    for (const [index, outcome] of outcomes.entries()) this.apply(tasks[index]!, outcome);
  }

  private apply(task: TaskState, outcome: AutomationOutcome): void {
    const automation = task.automation!;
    if (!outcome.ok) {
      automation.status = 'failed';
      automation.error = {
        type: outcome.errorType,
        message: `${outcome.error} (after ${outcome.attempts} attempt(s))`,
        at: outcome.at,
      };
      return;
    }
    automation.status = 'passed';
    automation.evidence = outcome.evidence;
    // An earlier round's error stays: the record shows why a person had to run it again.
    // A person may have finished the task while its connector ran: their completion stands.
    if (task.status !== 'open') return;
    task.status = 'completed';
    task.completedAt = nowIso();
    task.completedBy = `connector ${automation.connector}`;
    // A restore test's and a deletion's records go where a person's would: the report and the
    // certificate read them from there, whoever made them.
    const { restore, sanitization } = outcome.evidence;
    task.evidence = {
      text: summary(outcome),
      ...(restore ? { restore } : {}),
      ...(sanitization ? { sanitization } : {}),
    };
    const secret = outcome.evidence.secret;
    if (secret) for (const listener of this.secretListeners) listener(task, secret);
  }
}
