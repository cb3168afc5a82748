import { linkOpeningLimits } from '../domain/definitions.js';
import { RecentlyUsed } from './recently-used.js';

/**
 * Which openings of a link this API process still reports to its workflow. A repeat by a user agent
 * already reported is dropped (the workflow keeps only the first per agent anyway); after
 * `linkOpeningLimits.signalsPerLink` reports a link is reported no more, so anyone holding a link
 * cannot flood the run's history with Signals. Bounded to the `maxLinks` links opened last.
 */
export class OpeningGate {
  private readonly links: RecentlyUsed<{ agents: Set<string>; reported: number }>;

  constructor(maxLinks = 10_000) {
    this.links = new RecentlyUsed(maxLinks);
  }

  /** True when this opening is to be reported; counts it as reported. */
  admit(tokenHash: string, userAgent: string): boolean {
    const link = this.links.get(tokenHash) ?? { agents: new Set<string>(), reported: 0 };
    this.links.set(tokenHash, link);
    if (link.agents.has(userAgent) || link.reported >= linkOpeningLimits.signalsPerLink) return false;
    if (link.agents.size < linkOpeningLimits.perLink) link.agents.add(userAgent);
    link.reported++;
    return true;
  }
}
