// The links a runbook mailed (approval, intake, reveal), known only by the SHA-256 of their tokens,
// and their openings: a GET of a link page is recorded, never taken as a decision.
import { setHandler } from '@temporalio/workflow';
import {
  contactsQuery,
  linkOpenedSignal,
  linkOpeningLimits,
  type IssuedLinkRecord,
  type LinkOpened,
  type LinkPurpose,
  type LinksMemory,
} from '../../domain/definitions.js';
import type { LinkOpeningRecord } from '../../domain/facts.js';
import { nowIso, type RunbookState } from './state.js';

export class Links {
  private readonly links = new Map<string, IssuedLinkRecord>();
  /**
   * Anyone holding a link can open it without limit, so only the first opening per link and user
   * agent is kept, at most `linkOpeningLimits.perLink` per link; the rest are only counted.
   */
  private readonly openings: (LinkOpeningRecord & { tokenHash: string })[] = [];
  private readonly openingsByLink = new Map<string, { agents: Set<string>; notListed: number }>();

  constructor(runbook: RunbookState) {
    setHandler(contactsQuery, () => runbook.contacts());
    setHandler(linkOpenedSignal, (opened) => this.recordOpening(opened));
  }

  /** Remembers links just mailed, by the SHA-256 of their tokens. */
  remember(
    purpose: LinkPurpose,
    requestId: string,
    issued: { tokenHash: string; approver: string }[],
    generation?: number,
  ): void {
    for (const link of issued)
      this.links.set(link.tokenHash, {
        purpose,
        requestId,
        approver: link.approver,
        ...(generation ? { generation } : {}),
      });
  }

  /** The link behind a token hash, when it is of the expected purpose. */
  of(tokenHash: string, purpose: LinkPurpose): IssuedLinkRecord | undefined {
    const link = this.links.get(tokenHash);
    return link?.purpose === purpose ? link : undefined;
  }

  private recordOpening(opened: LinkOpened): void {
    const link = this.links.get(opened.tokenHash);
    if (!link) return;
    const userAgent = opened.userAgent.slice(0, linkOpeningLimits.userAgentLength);
    const seen = this.openingsByLink.get(opened.tokenHash) ?? { agents: new Set<string>(), notListed: 0 };
    this.openingsByLink.set(opened.tokenHash, seen);
    if (seen.agents.has(userAgent)) return;
    if (seen.agents.size >= linkOpeningLimits.perLink) {
      seen.notListed += 1;
      return;
    }
    seen.agents.add(userAgent);
    this.openings.push({
      ...link,
      at: nowIso(),
      ip: opened.ip.slice(0, 64),
      userAgent,
      tokenHash: opened.tokenHash,
    });
  }

  /** The listed openings of links of these requests, and how many more were only counted. */
  openingsOf(requestIds: Set<string>): { listed: LinkOpeningRecord[]; notListed: number } {
    let notListed = 0;
    for (const [tokenHash, seen] of this.openingsByLink) {
      if (requestIds.has(this.links.get(tokenHash)!.requestId)) notListed += seen.notListed;
    }
    const listed = this.openings
      .filter((opening) => requestIds.has(opening.requestId))
      .map(({ tokenHash: _tokenHash, ...opening }) => opening);
    return { listed, notListed };
  }

  /** What a run that continues as new carries of the links. */
  carry(): LinksMemory {
    return {
      links: [...this.links],
      openings: this.openings,
      notListed: [...this.openingsByLink].flatMap(([hash, seen]) =>
        seen.notListed ? [[hash, seen.notListed]] : [],
      ),
    };
  }

  restore(memory: LinksMemory): void {
    for (const [hash, link] of memory.links) this.links.set(hash, link);
    const seen = (hash: string) => {
      const entry = this.openingsByLink.get(hash) ?? { agents: new Set<string>(), notListed: 0 };
      this.openingsByLink.set(hash, entry);
      return entry;
    };
    for (const opening of memory.openings) {
      this.openings.push(opening);
      seen(opening.tokenHash).agents.add(opening.userAgent);
    }
    for (const [hash, count] of memory.notListed) seen(hash).notListed = count;
  }
}
