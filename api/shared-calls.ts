/**
 * Calls for the same key made while one is in flight share its answer instead of asking again. Each
 * link page asks Temporal whether its run still runs: 50 approvers pressing at once asked it 50
 * times, one after another at Temporal's end (the last answer came some 70 ms after the first on a
 * loaded 2-core machine). An answer still on its way was asked at most a moment before the callers
 * who share it: the same race as between any answer and the call made on it.
 */
export class SharedCalls<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, call: () => Promise<T>): Promise<T> {
    const shared = this.inFlight.get(key);
    if (shared) return shared;
    const started = call().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }
}
