import { linkOpeningLimits } from '../domain/definitions.js';

/**
 * Which openings of a link this API process still reports to its workflow. A repeat by a user agent
 * already reported is dropped (the workflow keeps only the first per agent anyway); after
 * `linkOpeningLimits.signalsPerLink` reports a link is reported no more, so anyone holding a link
 * cannot flood the run's history with Signals. Bounded to the `maxLinks` links opened last.
 */
export class OpeningGate {
  private readonly links = new Map<string, { agents: Set<string>; reported: number }>();

  constructor(private readonly maxLinks = 10_000) {}

  /** True when this opening is to be reported; counts it as reported. */
  admit(tokenHash: string, userAgent: string): boolean {
    const link = this.links.get(tokenHash) ?? { agents: new Set<string>(), reported: 0 };
    // Re-inserted, so the Map's order is the order of use and the link opened longest ago goes first.
    this.links.delete(tokenHash);
    this.links.set(tokenHash, link);
    if (this.links.size > this.maxLinks) this.links.delete(this.links.keys().next().value!);
    if (link.agents.has(userAgent) || link.reported >= linkOpeningLimits.signalsPerLink) return false;
    if (link.agents.size < linkOpeningLimits.perLink) link.agents.add(userAgent);
    link.reported++;
    return true;
  }
}
