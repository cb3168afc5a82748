// What every public link page (approval, intake, reveal) shares: the token check, the workflow's
// view of the link, the opening record, the same-origin and CSRF checks, and the HTML answers,
// including the dead ends, each of which says what happened, what to do next and whom to contact.
import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import type { Request, Response } from 'express';
import type { Person } from '../domain/schemas.js';
import {
  contactsQuery,
  linkOpenedSignal,
  linkOpeningLimits,
  type TransitionStatus,
  type LinkPurpose,
  type TransitionContacts,
} from '../domain/definitions.js';
import {
  csrfMatches,
  csrfValue,
  tokenFingerprint,
  verifyLinkToken,
  type LinkClaims,
} from '../security/links.js';
import type { KeyList } from '../security/key-list.js';
import type { TemplateRenderer } from '../templates/render.js';
import { describeChainRun } from '../audit/runs.js';
import { fromTemporal } from './errors.js';
import { statusOf } from './operations.js';
import { OpeningGate } from './opening-gate.js';
import { RecentViews } from './recent-views.js';
import { whenResumed } from './resuming.js';
import { SharedCalls } from './shared-calls.js';
import { countAsFailedAttempt, isCrossOrigin, sendPublicPage, type MspIdentity } from './public-pages.js';

export interface LinkPageDeps {
  temporal: Client;
  pages: TemplateRenderer;
  linkSecrets: KeyList;
  publicUrl: string;
  msp: MspIdentity;
}

export interface ResolvedLink<View> {
  claims: LinkClaims;
  tokenHash: string;
  handle: WorkflowHandle;
  view: View;
}

/** A dead end: what happened, what to do next, and whom to contact. */
export interface DeadEnd {
  title: string;
  problem: string;
  next: string;
  /** The transition's operators, when the link names a transition we can still ask. */
  contacts?: Person[];
}

const lookupAttempts = 12;

/** How a closed transition ended, in the words of a sentence. */
const endedAs: Record<TransitionStatus, string> = {
  running: 'closed',
  completed: 'completed',
  cancelled: 'cancelled',
  failed: 'stopped by a failure',
};

/**
 * The client facts an opening or a decision records: anyone holding a link chooses their user agent,
 * so it is cut to what the workflow keeps before it travels into the history.
 */
function clientOf(req: Request) {
  return {
    ip: (req.ip ?? '').slice(0, 64),
    userAgent: (req.get('user-agent') ?? '').slice(0, linkOpeningLimits.userAgentLength),
  };
}

export function createLinkPages(deps: LinkPageDeps, purpose: LinkPurpose, template: string) {
  const publicOrigin = new URL(deps.publicUrl).origin;
  // One purpose's pages look links up with one kind of query, so a remembered view is of that kind.
  const recentViews = new RecentViews();
  const descriptions = new SharedCalls<WorkflowExecutionDescription | null>();
  const openings = new OpeningGate();

  async function render(res: Response, status: number, title: string, context: Record<string, unknown>) {
    await sendPublicPage(deps, res, status, { title, template, context });
  }

  /** Sends a dead-end page; the MSP's own contact stands in when the transition names no operator. */
  async function deadEnd(res: Response, status: number, end: DeadEnd): Promise<void> {
    await sendPublicPage(deps, res, status, {
      title: end.title,
      template: 'pages/dead-end.html.hbs',
      context: { ...end },
    });
  }

  /** The operators of the transition a signed link names; none when it cannot be asked. */
  async function contactsOf(transitionId: string, runId?: string): Promise<TransitionContacts | null> {
    return deps.temporal.workflow
      .getHandle(transitionId, runId)
      .query(contactsQuery)
      .catch(() => null);
  }

  const notValid = (): DeadEnd => ({
    title: 'Link not valid',
    problem: 'This link is not valid.',
    next: 'Open the link exactly as it is in your email: some email programs break long links across lines. If it still does not work, ask for a new link.',
  });

  return {
    render,
    deadEnd,

    /**
     * The link's claims and the workflow's view of it, or null with the answer already sent. With
     * `reuse`, a view this process looked up lately that `reuse` accepts stands in for a new query
     * (see `RecentViews`); the run is still asked whether it runs.
     */
    async resolve<View>(
      req: Request,
      res: Response,
      token: string,
      lookup: (handle: WorkflowHandle, tokenHash: string) => Promise<View | null>,
      reuse?: (view: View) => boolean,
    ): Promise<ResolvedLink<View> | null> {
      const check = verifyLinkToken(deps.linkSecrets, token, purpose);
      req.log.info({ link: tokenFingerprint(token), purpose, valid: check.ok }, 'link');
      if (!check.ok) {
        countAsFailedAttempt(res);
        if (check.reason !== 'expired' || !check.claims) {
          await deadEnd(res, 404, notValid());
          return null;
        }
        const contacts = await contactsOf(check.claims.transitionId);
        await deadEnd(res, 410, {
          title: 'Link expired',
          problem: 'This link has expired.',
          next: 'If the request is still open, the next reminder email brings a fresh link. Otherwise ask the people below for a new one.',
          contacts: contacts?.operators,
        });
        return null;
      }
      // The run that mailed the link (or the run it continued as new into): a link of a finished
      // run never reaches a later one. Asked first: the frontend answers it alone, so a Temporal
      // that is away shows at once (503).
      const description = await descriptions.run(
        `${check.claims.transitionId}/${check.claims.runId ?? ''}`,
        () =>
          describeChainRun(deps.temporal, check.claims.transitionId, check.claims.runId).then(
            (found) => found,
            (error: unknown) => {
              if (fromTemporal(error)?.status === 404) return null;
              throw error;
            },
          ),
      );
      if (description === null) {
        countAsFailedAttempt(res);
        await deadEnd(res, 404, notValid());
        return null;
      }
      const handle = deps.temporal.workflow.getHandle(check.claims.transitionId, description.runId);
      // A link of a run that has ended (completed, or cancelled and perhaps started again) acts on nothing.
      if (description.status.name !== 'RUNNING') {
        const contacts = await contactsOf(check.claims.transitionId, description.runId);
        await deadEnd(res, 410, {
          title: 'Request closed',
          problem: `This request is closed: the ${contacts?.kind ?? 'transition'} it belongs to was ${endedAs[statusOf(description)]}.`,
          next: 'Nothing more is needed from you through this link. If a new request was made, it came with a new email.',
          contacts: contacts?.operators,
        });
        return null;
      }
      const recent = recentViews.recall(check.tokenHash) as View | undefined;
      if (recent !== undefined && reuse?.(recent))
        return { claims: check.claims, tokenHash: check.tokenHash, handle, view: recent };
      // The email leaves inside the activity, a moment before the workflow records the link's hash:
      // a genuine (signed) link clicked at once is asked about again briefly before being refused.
      let view: View | null = null;
      for (let attempt = 0; attempt < lookupAttempts && !view; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
        view = await whenResumed(() => lookup(handle, check.tokenHash));
      }
      if (!view) {
        countAsFailedAttempt(res);
        await deadEnd(res, 404, notValid());
        return null;
      }
      recentViews.remember(check.tokenHash, view);
      return { claims: check.claims, tokenHash: check.tokenHash, handle, view };
    },

    /** Records a GET of the page as an opening, never as an action; a failure only logs. */
    async recordOpening(req: Request, link: ResolvedLink<unknown>): Promise<void> {
      const client = clientOf(req);
      if (!openings.admit(link.tokenHash, client.userAgent)) return;
      await link.handle
        .signal(linkOpenedSignal, { tokenHash: link.tokenHash, ...client })
        .catch((error: unknown) => req.log.warn({ err: error }, 'could not record the link opening'));
    },

    csrf: (tokenHash: string) => csrfValue(deps.linkSecrets, tokenHash),

    /** A POST from another site's page: answers 403 and returns true. */
    async refuseCrossOrigin(req: Request, res: Response): Promise<boolean> {
      if (!isCrossOrigin(req, publicOrigin)) return false;
      await deadEnd(res, 403, {
        title: 'Not sent from this page',
        problem: 'This form can only be sent from its own page.',
        next: 'Open the link from your email and press the button on that page.',
      });
      return true;
    },

    /** A POST without the CSRF value its GET page carried: answers 403 and returns true. */
    async refuseWithoutCsrf(req: Request, res: Response, tokenHash: string, csrf: unknown): Promise<boolean> {
      if (csrfMatches(deps.linkSecrets, tokenHash, csrf)) return false;
      await deadEnd(res, 403, {
        title: 'Not sent from this page',
        problem: 'This form was not sent from the page of this link.',
        next: 'Open the link from your email and press the button on that page.',
      });
      return true;
    },

    /** The request's client facts a decision records. */
    client: clientOf,
  };
}
