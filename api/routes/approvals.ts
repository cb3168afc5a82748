import type { WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import type { DocumentStore } from '../../connectors/documents/port.js';
import { approvalLinkQuery, type ApprovalLinkView } from '../../domain/definitions.js';
import { limits, multiLine } from '../../domain/schemas.js';
import { dateInWords } from '../../domain/timeline.js';
import { approvalCopy, plural } from '../approval-copy.js';
import { DecisionBatches } from '../decision-batches.js';
import { fromTemporal, HttpError, notFound } from '../errors.js';
import { createLinkPages, type LinkPageDeps } from '../link-pages.js';
import type { ApiRoutes } from '../routes.js';
import { runToRead } from './runs.js';
import { workflowQueries, workflowUpdates } from '../workflow-gates.js';

export const tokenParams = z.object({ token: z.string().min(1).max(1024) });
const documentParams = tokenParams.extend({ docId: z.string().regex(/^[0-9]{2}-[a-z0-9-]+$/) });
const decisionBody = z.object({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().trim().max(limits.longText).check(multiLine).default(''),
  csrf: z.string().max(200).default(''),
});

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

const statusText: Record<ApprovalLinkView['status'], string> = {
  pending: 'Your decision is needed.',
  decided: 'You have already decided on this request: there is nothing more to do here.',
  settled: 'This request is already settled by another approver: your decision is no longer needed.',
  superseded:
    'This link was replaced: you are no longer an approver of this request. Someone else was asked in your place.',
  expired: 'This link has expired.',
};

const pageTitle: Record<ApprovalLinkView['status'], string> = {
  pending: 'Your approval is needed',
  decided: 'Already decided',
  settled: 'Already settled',
  superseded: 'Link replaced',
  expired: 'Link expired',
};

/** The approver's link pages: GET shows and records the opening, POST decides through an Update. */
export function approvalRoutes(routes: ApiRoutes, deps: LinkPageDeps & { documents: DocumentStore }) {
  const tag = 'approval links';
  const pages = createLinkPages(deps, 'approval', 'pages/approval.html.hbs');
  // Under Temporal's own limits of one workflow (see WorkflowGates): one query buffered, 10 Updates;
  // decisions pressed together go as one Update (see DecisionBatches).
  const queries = workflowQueries;
  const decisions = new DecisionBatches(workflowUpdates);
  const lookup = (handle: WorkflowHandle, tokenHash: string) =>
    queries.run(handle.workflowId, () => handle.query(approvalLinkQuery, tokenHash));

  /** What the page says about the request, whatever its status. */
  function describe(view: ApprovalLinkView) {
    const copy = approvalCopy(view.step, view.approval.title, view.items, view.clientName);
    return {
      view,
      copy,
      itemsHeading: `${capitalized(plural(view.items.total, view.items.noun))} concerned (${view.items.total})`,
      more: view.items.total - view.items.shown.length,
      deadline: dateInWords(view.approval.deadline, view.timezone),
      requested: dateInWords(view.approval.requestedAt, view.timezone),
      contacts: view.operators,
    };
  }

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
      const { view } = link;
      const run = await runToRead(deps, link.claims.transitionId, link.claims.runId);
      const documents = (await deps.documents.list(run)).map((document) => ({
        title: document.title,
        createdAt: dateInWords(document.createdAt, view.timezone),
        href: `/approvals/${params.token}/documents/${document.id}`,
      }));
      await pages.render(res, 200, pageTitle[view.status], {
        ...describe(view),
        pending: view.status === 'pending',
        settledOk: view.status === 'decided',
        statusText: statusText[view.status],
        ownDecidedAt: view.ownDecision && dateInWords(view.ownDecision.decidedAt, view.timezone),
        documents,
        csrf: pages.csrf(link.tokenHash),
      });
      return undefined;
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/approvals/:token/documents/:docId',
      summary: 'A document of the transition, read-only, for the holder of an approval link',
      roles: 'public',
      params: documentParams,
      responses: { 200: 'HTML document', 404: 'Unknown link or document', 410: 'Expired link' },
      tag,
    },
    async ({ params, req, res }) => {
      const link = await pages.resolve(req, res, params.token, lookup);
      if (!link) return undefined;
      const run = await runToRead(deps, link.claims.transitionId, link.claims.runId);
      const html = await deps.documents.read(run, params.docId, 'html');
      if (!html) throw notFound('no such document');
      res.set('Cache-Control', 'no-store').type('html').send(html);
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
      // The page this press comes from was a pending view: its facts (client, step, operators) still
      // word the answer, and the Update's validator refuses the press if the link is no longer pending.
      const link = await pages.resolve(req, res, params.token, lookup, (view) => view.status === 'pending');
      if (!link) return undefined;
      if (await pages.refuseWithoutCsrf(req, res, link.tokenHash, body.csrf)) return undefined;
      const page = describe(link.view);
      try {
        const result = await decisions.decide(link, {
          tokenHash: link.tokenHash,
          decision: body.decision,
          comment: body.comment,
          ...pages.client(req),
        });
        await pages.render(res, 200, 'Decision recorded', {
          ...page,
          done: {
            decision: result.recorded,
            what: `${page.copy.heading} (${link.view.clientName}).`,
            next:
              result.approvalStatus === 'pending'
                ? 'Other approvers have yet to decide; the step goes ahead once every one of them has approved.'
                : result.recorded === 'approve'
                  ? page.copy.afterApprove
                  : page.copy.afterReject,
          },
        });
      } catch (error) {
        const known = error instanceof HttpError ? error : fromTemporal(error);
        if (!known) throw error;
        await pages.deadEnd(res, known.status, {
          title: 'Decision not recorded',
          problem: `Your decision was not recorded: ${known.message}.`,
          next: 'Open the link again to see where the request stands. If you think this is wrong, contact the people below.',
          contacts: link.view.operators,
        });
      }
      return undefined;
    },
  );
}
