import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../activities/bounded.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapBounded', () => {
  it('runs the first item alone, then at most `bound` at a time, and keeps the order', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const results = await mapBounded([...Array(20).keys()], 4, async (item) => {
      started.push(running);
      running++;
      most = Math.max(most, running);
      // Later items finish first: the results must still be in the items' order.
      await pause(20 - item);
      running--;
      return item * 10;
    });
    expect(results).toEqual([...Array(20).keys()].map((item) => item * 10));
    expect(started[0]).toBe(0);
    expect(started[1]).toBe(0);
    expect(most).toBe(4);
  });

  it('after a failure starts nothing new, waits for what runs, and throws the first error', async () => {
    const finished: number[] = [];
    const started: number[] = [];
    const failing = mapBounded([...Array(20).keys()], 3, async (item) => {
      started.push(item);
      await pause(item === 2 ? 1 : 10);
      if (item === 2) throw new Error('refused');
      finished.push(item);
      return item;
    });
    await expect(failing).rejects.toThrow('refused');
    // Items 1 and 3 were running when 2 failed: both finished before the error came back.
    expect(started).toEqual([0, 1, 2, 3]);
    expect(finished.sort()).toEqual([0, 1, 3]);
  });

  it('an empty list gives an empty list', async () => {
    expect(await mapBounded([], 5, () => Promise.reject(new Error('never')))).toEqual([]);
  });
});
