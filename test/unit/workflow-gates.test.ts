import { describe, expect, it } from 'vitest';
import { RecentViews } from '../../api/recent-views.js';
import { SharedCalls } from '../../api/shared-calls.js';
import { WorkflowGates } from '../../api/workflow-gates.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WorkflowGates', () => {
  it('lets `limit` calls of one workflow run at once, in the order they came, others untouched', async () => {
    const gates = new WorkflowGates(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const call = (i: number) => async () => {
      running++;
      most = Math.max(most, running);
      order.push(i);
      await pause(5);
      running--;
      return i;
    };
    const other = gates.run('other', async () => running);
    const results = await Promise.all([...Array(10).keys()].map((i) => gates.run('wf', call(i))));
    expect(results).toEqual([...Array(10).keys()]);
    expect(order).toEqual([...Array(10).keys()]);
    expect(most).toBe(2);
    expect(await other).toBeLessThanOrEqual(1);
  });

  it('a failed call passes its turn on', async () => {
    const gates = new WorkflowGates(1);
    const failing = gates.run('wf', () => Promise.reject(new Error('refused')));
    const next = gates.run('wf', async () => 'ran');
    await expect(failing).rejects.toThrow('refused');
    await expect(next).resolves.toBe('ran');
  });
});

describe('RecentViews', () => {
  it('recalls a view until it is too old, and drops the least recently remembered past its size', async () => {
    const views = new RecentViews(2, 30);
    views.remember('a', { status: 'pending' });
    views.remember('b', 'b');
    views.remember('a', 'a again');
    views.remember('c', 'c');
    expect(views.recall('b')).toBeUndefined();
    expect(views.recall('a')).toBe('a again');
    await pause(40);
    expect(views.recall('c')).toBeUndefined();
  });
});

describe('SharedCalls', () => {
  it('gives calls made while one is in flight its answer, and asks again once it is in', async () => {
    const calls = new SharedCalls<number>();
    let asked = 0;
    const ask = async () => {
      asked++;
      await pause(5);
      return asked;
    };
    expect(await Promise.all([calls.run('wf', ask), calls.run('wf', ask), calls.run('other', ask)])).toEqual([
      2, 2, 2,
    ]);
    expect(asked).toBe(2);
    expect(await calls.run('wf', ask)).toBe(3);
  });

  it('gives a failure to every caller that shared it, and asks again after it', async () => {
    const calls = new SharedCalls<string>();
    const failing = () => pause(5).then(() => Promise.reject(new Error('away')));
    const shared = [calls.run('wf', failing), calls.run('wf', async () => 'not asked')];
    for (const call of shared) await expect(call).rejects.toThrow('away');
    await expect(calls.run('wf', async () => 'asked again')).resolves.toBe('asked again');
  });
});
