// What every public link page (approval, intake, reveal) shares: the token check, the workflow's
// view of the link, the opening record, the same-origin and CSRF checks, and the HTML answer.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Request, Response } from 'express';
import { linkOpenedSignal, type LinkPurpose } from '../domain/definitions.js';
import { csrfMatches, csrfValue, tokenFingerprint, verifyLinkToken, type LinkClaims } from '../links.js';
import type { TemplateRenderer } from '../templates/render.js';
import { fromTemporal } from './errors.js';

export interface LinkPageDeps {
  temporal: Client;
  pages: TemplateRenderer;
  linkSecret: Buffer;
  publicUrl: string;
}

export interface ResolvedLink<View> {
  claims: LinkClaims;
  tokenHash: string;
  handle: WorkflowHandle;
  view: View;
}

const lookupAttempts = 12;

/** A browser's POST names the page it came from in `Origin`; a form on another site is refused. */
export function isCrossOrigin(req: Request, publicOrigin: string): boolean {
  const origin = req.get('origin');
  return origin !== undefined && origin !== publicOrigin;
}

export function createLinkPages(deps: LinkPageDeps, purpose: LinkPurpose, template: string, title: string) {
  const publicOrigin = new URL(deps.publicUrl).origin;

  async function render(res: Response, status: number, context: Record<string, unknown>) {
    const body = await deps.pages.render(template, context);
    res
      .status(status)
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(await deps.pages.htmlPage(title, body));
  }

  return {
    render,

    /** The link's claims and the workflow's view of it, or null with the answer already sent. */
    async resolve<View>(
      req: Request,
      res: Response,
      token: string,
      lookup: (handle: WorkflowHandle, tokenHash: string) => Promise<View | null>,
    ): Promise<ResolvedLink<View> | null> {
      const check = verifyLinkToken(deps.linkSecret, token, purpose);
      req.log.info({ link: tokenFingerprint(token), purpose, valid: check.ok }, 'link');
      if (!check.ok) {
        await render(res, check.reason === 'expired' ? 410 : 404, {
          problem: check.reason === 'expired' ? 'This link has expired.' : 'This link is not valid.',
        });
        return null;
      }
      // The run that mailed the link: a link of a finished run never reaches a later one.
      const handle = deps.temporal.workflow.getHandle(check.claims.transitionId, check.claims.runId);
      // The email leaves inside the activity, a moment before the workflow records the link's hash:
      // a genuine (signed) link clicked at once is asked about again briefly before being refused.
      let view: View | null = null;
      for (let attempt = 0; attempt < lookupAttempts && !view; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
        try {
          view = await lookup(handle, check.tokenHash);
        } catch (error) {
          if (fromTemporal(error)?.status !== 404) throw error;
          break;
        }
      }
      if (!view) {
        await render(res, 404, { problem: 'This link is not valid.' });
        return null;
      }
      return { claims: check.claims, tokenHash: check.tokenHash, handle, view };
    },

    /** Records a GET of the page as an opening, never as an action; a failure only logs. */
    async recordOpening(req: Request, link: ResolvedLink<unknown>): Promise<void> {
      await link.handle
        .signal(linkOpenedSignal, {
          tokenHash: link.tokenHash,
          ip: req.ip ?? '',
          userAgent: req.get('user-agent') ?? '',
        })
        .catch((error: unknown) => req.log.warn({ err: error }, 'could not record the link opening'));
    },

    csrf: (tokenHash: string) => csrfValue(deps.linkSecret, tokenHash),

    /** A POST from another site's page: answers 403 and returns true. */
    async refuseCrossOrigin(req: Request, res: Response): Promise<boolean> {
      if (!isCrossOrigin(req, publicOrigin)) return false;
      await render(res, 403, { problem: 'This form can only be sent from its own page.' });
      return true;
    },

    /** A POST without the CSRF value its GET page carried: answers 403 and returns true. */
    async refuseWithoutCsrf(req: Request, res: Response, tokenHash: string, csrf: unknown): Promise<boolean> {
      if (csrfMatches(deps.linkSecret, tokenHash, csrf)) return false;
      await render(res, 403, { problem: 'Open the link and use the button on its page.' });
      return true;
    },

    /** The request's client facts a decision records. */
    client: (req: Request) => ({ ip: req.ip ?? '', userAgent: req.get('user-agent') ?? '' }),
  };
}
