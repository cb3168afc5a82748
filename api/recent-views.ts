import { RecentlyUsed } from './recently-used.js';

/**
 * The workflow's views of links this API process looked up lately, by token hash. A link's page is
 * shown (a query) before its form is sent; asking the workflow again at the press costs seconds when
 * many approvers press at once: each query waits for a workflow task, and while one is buffered the
 * server refuses the others (RESOURCE_EXHAUSTED) until a backoff lets them in. What the press then
 * changes is checked by the workflow itself (the Update's validator), never by a remembered view.
 */
export class RecentViews {
  private readonly entries: RecentlyUsed<{ view: unknown; until: number }>;

  constructor(
    maxEntries = 10_000,
    /** About as long as a person reads a page before pressing its button. */
    private readonly keepMillis = 15 * 60_000,
  ) {
    this.entries = new RecentlyUsed(maxEntries);
  }

  remember(tokenHash: string, view: unknown): void {
    this.entries.set(tokenHash, { view, until: Date.now() + this.keepMillis });
  }

  recall(tokenHash: string): unknown {
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.view;
    this.entries.delete(tokenHash);
    return undefined;
  }
}
