import type { WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { approvalLinkQuery, decideUpdate, type ApprovalLinkView } from '../../domain/definitions.js';
import { limits } from '../../domain/schemas.js';
import { humanDate } from '../../domain/timeline.js';
import { fromTemporal } from '../errors.js';
import { createLinkPages, type LinkPageDeps } from '../link-pages.js';
import type { ApiRoutes } from '../routes.js';

export const tokenParams = z.object({ token: z.string().min(1).max(1024) });
const decisionBody = z.object({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().trim().max(limits.longText).default(''),
  csrf: z.string().max(200).default(''),
});

const statusText: Record<ApprovalLinkView['status'], string> = {
  pending: 'Your decision is needed.',
  decided: 'You have already decided on this request.',
  settled: 'This request is already settled; your decision is no longer needed.',
  superseded: 'This link was replaced: you are no longer an approver of this request.',
  expired: 'This link has expired.',
};

/** The approver's link pages (DESIGN §4): GET shows and records the opening, POST decides through an Update. */
export function approvalRoutes(routes: ApiRoutes, deps: LinkPageDeps) {
  const tag = 'approval links';
  const pages = createLinkPages(deps, 'approval', 'pages/approval.html.hbs', 'Approval request');
  const lookup = (handle: WorkflowHandle, tokenHash: string) => handle.query(approvalLinkQuery, tokenHash);

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
      const link = await pages.resolve(req, res, params.token, lookup);
      if (!link) return undefined;
      await pages.recordOpening(req, link);
      await pages.render(res, 200, {
        view: link.view,
        statusText: statusText[link.view.status],
        pending: link.view.status === 'pending',
        deadline: humanDate(link.view.approval.deadline, link.view.timezone),
        csrf: pages.csrf(link.tokenHash),
      });
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
      if (await pages.refuseCrossOrigin(req, res)) return undefined;
      const link = await pages.resolve(req, res, params.token, lookup);
      if (!link) return undefined;
      if (await pages.refuseWithoutCsrf(req, res, link.tokenHash, body.csrf)) return undefined;
      try {
        const result = await link.handle.executeUpdate(decideUpdate, {
          args: [
            {
              tokenHash: link.tokenHash,
              decision: body.decision,
              comment: body.comment,
              ...pages.client(req),
            },
          ],
        });
        await pages.render(res, 200, {
          done: `Thank you. Your decision (${result.recorded}) on ${link.view.approval.title} for ${link.view.clientName} is recorded; the request is now ${result.approvalStatus}.`,
        });
      } catch (error) {
        const known = fromTemporal(error);
        if (!known) throw error;
        await pages.render(res, known.status, {
          problem: `Your decision was not recorded: ${known.message}.`,
        });
      }
      return undefined;
    },
  );
}
