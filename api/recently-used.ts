/** A Map of at most `maxEntries` entries: storing one more drops the one stored or refreshed longest ago. */
export class RecentlyUsed<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly maxEntries: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Stores `value` as the most recently used (a Map keeps insertion order, so it is re-inserted). */
  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
