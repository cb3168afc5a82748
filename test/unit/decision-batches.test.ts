import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { DecisionBatches } from '../../api/decision-batches.js';
import { HttpError } from '../../api/errors.js';
import { WorkflowGates } from '../../api/workflow-gates.js';
import type {
  DecideBatchRequest,
  DecideRequest,
  DecideResult,
  DecisionOutcome,
} from '../../domain/definitions.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const press = (tokenHash: string): DecideRequest => ({
  tokenHash,
  decision: 'approve',
  comment: '',
  ip: '127.0.0.1',
  userAgent: 'vitest',
});

const approved: DecideResult = { step: 'data-export', recorded: 'approve', approvalStatus: 'pending' };

/** A run whose Updates answer after 10 ms: `decideBatch` by `answer`, and `decide` alone by `alone`. */
function fakeRun(options: {
  answer?: (tokenHash: string) => DecisionOutcome;
  failBatch?: (batch: number) => Error | undefined;
  alone?: (request: DecideRequest) => DecideResult;
}) {
  const batches: string[][] = [];
  const singles: string[] = [];
  const handle = {
    workflowId: 'wf',
    async executeUpdate(update: { name: string }, { args }: { args: [unknown] }) {
      await pause(10);
      if (update.name === 'decide') {
        const request = args[0] as DecideRequest;
        singles.push(request.tokenHash);
        return options.alone!(request);
      }
      const { items } = args[0] as DecideBatchRequest;
      batches.push(items.map((item) => item.tokenHash));
      expect(items.every((item) => item.audit.v === 1 && item.audit.event === 'decision')).toBe(true);
      const failure = options.failBatch?.(batches.length);
      if (failure) throw failure;
      return { outcomes: items.map((item) => options.answer!(item.tokenHash)) };
    },
  } as unknown as WorkflowHandle;
  const link = (runId = 'run-1') => ({
    handle,
    claims: { transitionId: 'wf', runId, requestId: 'r', purpose: 'approval' as const, expiresAt: '' },
  });
  return { link, batches, singles };
}

describe('DecisionBatches', () => {
  it('sends the decisions of one turn of the event loop together and those that come meanwhile as the next batch, each answered by its own outcome', async () => {
    const run = fakeRun({
      answer: (tokenHash) =>
        tokenHash === 'again'
          ? {
              ok: false,
              failure: { type: 'Conflict', message: 'nothing to decide: this request is decided' },
            }
          : { ok: true, result: approved },
    });
    const decisions = new DecisionBatches(new WorkflowGates(10), 3);
    const first = ['a', 'b'].map((tokenHash) => decisions.decide(run.link(), press(tokenHash)));
    await pause(1);
    const later = ['c', 'again', 'd', 'e'].map((tokenHash) => decisions.decide(run.link(), press(tokenHash)));
    const settled = await Promise.allSettled([...first, ...later]);

    expect(run.batches).toEqual([['a', 'b'], ['c', 'again', 'd'], ['e']]);
    expect(settled.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const refused = (settled[3] as PromiseRejectedResult).reason as HttpError;
    expect(refused).toBeInstanceOf(HttpError);
    expect([refused.status, refused.message]).toEqual([409, 'nothing to decide: this request is decided']);
  });

  it('keeps the decisions of different runs apart', async () => {
    const run = fakeRun({ answer: () => ({ ok: true, result: approved }) });
    const decisions = new DecisionBatches(new WorkflowGates(10));
    await Promise.all([
      decisions.decide(run.link('run-1'), press('a')),
      decisions.decide(run.link('run-2'), press('b')),
    ]);
    expect(run.batches).toEqual([['a'], ['b']]);
  });

  it('fails every decision of a failed batch with its error, and sends the next batch all the same', async () => {
    const away = new Error('Temporal is away');
    const run = fakeRun({
      answer: () => ({ ok: true, result: approved }),
      failBatch: (batch) => (batch === 2 ? away : undefined),
    });
    const decisions = new DecisionBatches(new WorkflowGates(10), 2);
    const first = decisions.decide(run.link(), press('a'));
    await pause(1);
    const later = ['b', 'c', 'd'].map((tokenHash) => decisions.decide(run.link(), press(tokenHash)));
    const settled = await Promise.allSettled([first, ...later]);

    expect(run.batches).toEqual([['a'], ['b', 'c'], ['d']]);
    expect(settled.map((outcome) => (outcome.status === 'rejected' ? outcome.reason : 'ok'))).toEqual([
      'ok',
      away,
      away,
      'ok',
    ]);
  });

  it('sends each decision alone to a worker without the batch handler (a deploy under way)', async () => {
    const noHandler = Object.assign(new Error('workflow update failed'), {
      cause: new Error('No registered handler for update: decideBatch'),
    });
    const run = fakeRun({ failBatch: () => noHandler, alone: () => approved });
    const decisions = new DecisionBatches(new WorkflowGates(10));
    const first = decisions.decide(run.link(), press('a'));
    await pause(1);
    const later = ['b', 'c'].map((tokenHash) => decisions.decide(run.link(), press(tokenHash)));

    expect(await Promise.all([first, ...later])).toEqual([approved, approved, approved]);
    expect(run.singles.sort()).toEqual(['a', 'b', 'c']);
  });
});
