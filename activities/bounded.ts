/**
 * Runs `work` on every item, at most `bound` at a time, and returns the results in the items' order.
 * The first item runs alone: a server that refuses it (down, or refusing us) is asked once, not
 * `bound` times. After a failure nothing new starts; the work already started is waited for, so no
 * effect is left half-recorded when the caller sees the first error.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  bound: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  if (items.length === 0) return results;
  results[0] = await work(items[0]!);
  let next = 1;
  let failure: { error: unknown } | null = null;
  async function lane(): Promise<void> {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(bound, items.length - 1) }, lane));
  if (failure) throw (failure as { error: unknown }).error;
  return results;
}
