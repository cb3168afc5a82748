// What a recorded run does to reach its state, each move as an operator, a client or time would.
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  cancelUpdate,
  completeTasksUpdate,
  completeTaskUpdate,
  decideBatchUpdate,
  extendUpdate,
  legalHoldUpdate,
  pauseUpdate,
  requestApprovalUpdate,
  stateQuery,
  supplyCredentialUpdate,
  type Evidence,
  type StepStatus,
  type TaskState,
  type TransitionState,
} from '../../domain/definitions.js';
import type { StepKey } from '../../domain/schemas.js';
import type { OffboardingPeriod } from '../../domain/timeline.js';
import { readMailbox } from '../../embedded/mailbox.js';
import { sha256Hex } from '../../security/links.js';
import { allTasks } from '../support/workflow-env.js';

export interface Driver {
  env: TestWorkflowEnvironment;
  handle: WorkflowHandle;
  mailboxDir: string;
}

export type Move = (driver: Driver) => Promise<void>;

const operator = { actor: 'recorder', reason: 'recorded for the replay tests' };

/** Polls the state (a query: no time passes) until it holds. */
async function until(
  driver: Driver,
  what: string,
  holds: (state: TransitionState) => boolean,
): Promise<TransitionState> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const state = await driver.handle.query(stateQuery);
    if (holds(state)) return state;
    if (Date.now() > deadline)
      throw new Error(`${driver.handle.workflowId} never reached ${what}: ${JSON.stringify(state.steps)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const at =
  (step: StepKey, stepStatus: StepStatus): Move =>
  async (driver) => {
    await until(
      driver,
      `${step} ${stepStatus}`,
      (state) => state.steps.find((s) => s.key === step)?.status === stepStatus,
    );
  };

export const status =
  (transitionStatus: TransitionState['status']): Move =>
  async (driver) => {
    await until(driver, transitionStatus, (state) => state.status === transitionStatus);
  };

/** Lets time pass on the test server: timers fire, reminders go out. */
export const skip =
  (duration: string): Move =>
  async (driver) => {
    await driver.env.sleep(duration);
  };

/** More open tasks than this are completed in batches. */
const batchFrom = 20;

/** The evidence a recorded task is completed with: what its kind needs beyond the text. */
function evidenceOf(task: TaskState): Evidence {
  if (task.evidenceNeeded === 'restore')
    return {
      text: `done: ${task.id}`,
      restore: {
        startedAt: '2026-01-01T00:00:00Z',
        endedAt: '2026-01-01T01:00:00Z',
        integrityCheck: 'passed',
        verifiedBy: 'recorder',
      },
    };
  if (task.evidenceNeeded === 'validation')
    return {
      text: `done: ${task.id}`,
      validation: { verificationMethod: 'listing', verificationResult: 'passed' },
    };
  return { text: `done: ${task.id}` };
}

/** A validation checks someone else's work: a second key completes it. */
const actorOf = (task: TaskState) => (task.evidenceNeeded === 'validation' ? 'second-recorder' : 'recorder');

export const completeTasks =
  (step: StepKey): Move =>
  async (driver) => {
    // Open tasks, not just the status: a step may open a second list (the validations of deletions).
    await until(
      driver,
      `${step} tasks`,
      (s) =>
        s.steps.find((x) => x.key === step)?.status === 'awaiting-task' &&
        s.tasks.some((t) => t.step === step && t.status === 'open'),
    );
    const open = await allTasks(driver.handle, { step, status: 'open' });
    // Many tasks go in batches, as an operator's script sends them (a run takes 2,000 Updates).
    if (open.length > batchFrom) {
      for (let i = 0; i < open.length; i += 1_000) {
        const batch = open.slice(i, i + 1_000);
        const items = batch.map((task) => ({ taskId: task.id, evidence: evidenceOf(task) }));
        await driver.handle.executeUpdate(completeTasksUpdate, {
          args: [{ actor: actorOf(batch[0]!), items }],
        });
      }
      return;
    }
    for (const task of open) {
      await driver.handle.executeUpdate(completeTaskUpdate, {
        args: [{ actor: actorOf(task), taskId: task.id, evidence: evidenceOf(task) }],
      });
    }
  };

/** The client's decision through the personal link mailed for the step's latest request. */
const decide =
  (step: StepKey, decision: 'approve' | 'reject'): Move =>
  async (driver) => {
    const state = await until(
      driver,
      `${step} approval`,
      (s) => s.steps.find((x) => x.key === step)?.status === 'awaiting-approval',
    );
    const requestId = state.approvals.filter((a) => a.step === step).at(-1)!.requestId;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const links = (await readMailbox(driver.mailboxDir))
        .map(({ mail }) => /\/approvals\/([A-Za-z0-9_.-]+)/.exec(mail.text ?? '')?.[1])
        .filter((token): token is string => token !== undefined);
      for (const token of links) {
        const claims = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as {
          w: string;
          r: string;
        };
        if (claims.w !== driver.handle.workflowId || claims.r !== requestId) continue;
        // As the API sends a press: an item of a batch. The mail lands a moment before the run
        // records its link: until then the item is refused (its outcome says so) and sent again.
        const { outcomes } = await driver.handle.executeUpdate(decideBatchUpdate, {
          args: [
            {
              items: [
                {
                  tokenHash: sha256Hex(token),
                  decision,
                  comment: `${decision}d by the recorder`,
                  ip: '127.0.0.1',
                  userAgent: 'recorder',
                  audit: { v: 1, event: 'decision' },
                },
              ],
            },
          ],
        });
        const [outcome] = outcomes;
        if (outcome!.ok) return;
        if (Date.now() > deadline)
          throw new Error(`the decision on ${requestId} was refused: ${outcome!.failure.message}`);
      }
      if (Date.now() > deadline) throw new Error(`no approval link for ${requestId}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

export const approve = (step: StepKey) => decide(step, 'approve');
export const reject = (step: StepKey) => decide(step, 'reject');

export const requestAgain =
  (step: StepKey): Move =>
  async (driver) => {
    await driver.handle.executeUpdate(requestApprovalUpdate, { args: [{ ...operator, step }] });
    await until(
      driver,
      `${step} asked again`,
      (s) =>
        s.approvals.filter((a) => a.step === step).length === 2 &&
        s.steps.find((x) => x.key === step)?.status === 'awaiting-approval',
    );
  };

/** An operator puts the credential into the vault: the workflow gets its reference only. */
export const supplyCredential =
  (credentialId: string): Move =>
  async (driver) => {
    await until(driver, `${credentialId} awaited`, (s) =>
      s.credentials.some((c) => c.id === credentialId && c.status === 'awaiting'),
    );
    await driver.handle.executeUpdate(supplyCredentialUpdate, {
      args: [
        {
          actor: 'recorder',
          credentialId,
          via: 'operator-api',
          reference: { vaultId: `recorded/${credentialId}`, version: 1, fingerprint: 'recorded' },
        },
      ],
    });
  };

export const pause = (): Move => async (driver) => {
  await driver.handle.executeUpdate(pauseUpdate, { args: [operator] });
};

export const extend =
  (period: OffboardingPeriod, by: string): Move =>
  async (driver) => {
    await driver.handle.executeUpdate(extendUpdate, { args: [{ ...operator, period, by }] });
  };

export const holdLegally = (): Move => async (driver) => {
  await driver.handle.executeUpdate(legalHoldUpdate, { args: [operator] });
};

export const cancel = (): Move => async (driver) => {
  await driver.handle.executeUpdate(cancelUpdate, { args: [operator] });
};
