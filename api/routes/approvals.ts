import type { Client } from '@temporalio/client';
import type { Request, Response } from 'express';
import { z } from 'zod';
import {
  approvalLinkQuery,
  decideUpdate,
  linkOpenedSignal,
  type ApprovalLinkView,
} from '../../domain/definitions.js';
import { limits } from '../../domain/schemas.js';
import { humanDate } from '../../domain/timeline.js';
import { csrfMatches, csrfValue, tokenFingerprint, verifyLinkToken } from '../../links.js';
import type { TemplateRenderer } from '../../templates/render.js';
import { fromTemporal } from '../errors.js';
import type { ApiRoutes } from '../routes.js';

const tokenParams = z.object({ token: z.string().min(1).max(1024) });
const decisionBody = z.object({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().trim().max(limits.longText).default(''),
  csrf: z.string().max(200).default(''),
});

const linkLookupAttempts = 12;

const statusText: Record<ApprovalLinkView['status'], string> = {
  pending: 'Your decision is needed.',
  decided: 'You have already decided on this request.',
  settled: 'This request is already settled; your decision is no longer needed.',
  superseded: 'This link was replaced: you are no longer an approver of this request.',
  expired: 'This link has expired.',
};

/** The approver's link pages (DESIGN §4): GET shows and records the opening, POST decides through an Update. */
export function approvalRoutes(
  routes: ApiRoutes,
  deps: { temporal: Client; pages: TemplateRenderer; linkSecret: Buffer; publicUrl: string },
) {
  const tag = 'approval links';
  const publicOrigin = new URL(deps.publicUrl).origin;

  async function render(res: Response, status: number, context: Record<string, unknown>) {
    const body = await deps.pages.render('pages/approval.html.hbs', context);
    res
      .status(status)
      .type('html')
      .send(await deps.pages.htmlPage('Approval request', body));
  }

  /** The link's claims and the workflow's view of it, or an answer already sent. */
  async function resolve(req: Request, res: Response, token: string) {
    const check = verifyLinkToken(deps.linkSecret, token);
    req.log.info({ link: tokenFingerprint(token), valid: check.ok }, 'approval link');
    if (!check.ok) {
      await render(res, check.reason === 'expired' ? 410 : 404, {
        problem: check.reason === 'expired' ? 'This link has expired.' : 'This link is not valid.',
      });
      return null;
    }
    // The email leaves inside the activity, a moment before the workflow records the link's hash:
    // a genuine (signed) link clicked at once is asked about again briefly before being refused.
    let view: ApprovalLinkView | null = null;
    for (let attempt = 0; attempt < linkLookupAttempts && !view; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      try {
        view = await deps.temporal.workflow
          .getHandle(check.claims.transitionId)
          .query(approvalLinkQuery, check.tokenHash);
      } catch (error) {
        if (fromTemporal(error)?.status !== 404) throw error;
        break;
      }
    }
    if (!view) {
      await render(res, 404, { problem: 'This link is not valid.' });
      return null;
    }
    return { check, view };
  }

  const page = (view: ApprovalLinkView, extra: Record<string, unknown> = {}) => {
    const zone = 'UTC';
    return {
      view,
      statusText: statusText[view.status],
      pending: view.status === 'pending',
      deadline: humanDate(view.approval.deadline, zone),
      ...extra,
    };
  };

  routes.add(
    {
      method: 'get',
      path: '/approvals/:token',
      summary: 'Confirmation page of an approval link; changes nothing but records that it was opened',
      roles: 'public',
      params: tokenParams,
      responses: { 200: 'HTML page', 404: 'Unknown link', 410: 'Expired link' },
      tag,
    },
    async ({ params, req, res }) => {
      const resolved = await resolve(req, res, params.token);
      if (!resolved) return undefined;
      const { check, view } = resolved;
      await deps.temporal.workflow
        .getHandle(check.claims.transitionId)
        .signal(linkOpenedSignal, {
          tokenHash: check.tokenHash,
          ip: req.ip ?? '',
          userAgent: req.get('user-agent') ?? '',
        })
        .catch((error: unknown) => req.log.warn({ err: error }, 'could not record the link opening'));
      await render(res, 200, page(view, { csrf: csrfValue(deps.linkSecret, check.tokenHash) }));
      return undefined;
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/approvals/:token',
      summary: 'Decide (decision=approve|reject, comment, csrf from the page)',
      roles: 'public',
      params: tokenParams,
      body: decisionBody,
      responses: {
        200: 'Decision recorded',
        403: 'Cross-site or no form value',
        404: 'Unknown link',
        409: 'Already decided or settled',
        410: 'Expired link',
      },
      tag,
    },
    async ({ params, body, req, res }) => {
      const origin = req.get('origin');
      if (origin && origin !== publicOrigin) {
        await render(res, 403, { problem: 'This form can only be sent from its own page.' });
        return undefined;
      }
      const resolved = await resolve(req, res, params.token);
      if (!resolved) return undefined;
      const { check, view } = resolved;
      if (!csrfMatches(deps.linkSecret, check.tokenHash, body.csrf)) {
        await render(res, 403, { problem: 'Open the link and use the buttons on its page to decide.' });
        return undefined;
      }
      try {
        const result = await deps.temporal.workflow
          .getHandle(check.claims.transitionId)
          .executeUpdate(decideUpdate, {
            args: [
              {
                tokenHash: check.tokenHash,
                decision: body.decision,
                comment: body.comment,
                ip: req.ip ?? '',
                userAgent: req.get('user-agent') ?? '',
              },
            ],
          });
        await render(res, 200, {
          done: `Thank you. Your decision (${result.recorded}) on ${view.approval.title} for ${view.clientName} is recorded; the request is now ${result.approvalStatus}.`,
        });
      } catch (error) {
        const known = fromTemporal(error);
        if (!known) throw error;
        await render(res, known.status, { problem: `Your decision was not recorded: ${known.message}.` });
      }
      return undefined;
    },
  );
}
