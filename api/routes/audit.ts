import type { Client } from '@temporalio/client';
import type { Response } from 'express';
import { z } from 'zod';
import {
  auditReport,
  handoverPack,
  trailCsv,
  trailHtml,
  trailPdf,
  type AuditReport,
} from '../../audit/report.js';
import type { DocumentStore } from '../../connectors/documents/port.js';
import type { TemplateRenderer } from '../../templates/render.js';
import type { ApiRoutes } from '../routes.js';
import { runQuery, runToRead } from './runs.js';
import { transitionIdParams } from './transitions.js';

const formatQuery = runQuery.extend({ format: z.enum(['json', 'csv', 'html', 'pdf']).default('json') });

type AuditDeps = { temporal: Client; documents: DocumentStore; pages: TemplateRenderer };

const report = async (deps: AuditDeps, id: string, runId: string | undefined): Promise<AuditReport> =>
  auditReport(deps.temporal, deps.documents, await runToRead(deps, id, runId));

/** Sends the trail as CSV, printable HTML or PDF (the API's JSON aside): for the API and the console alike. */
export async function sendTrail(
  deps: AuditDeps,
  res: Response,
  id: string,
  query: { runId?: string; format: 'csv' | 'html' | 'pdf' },
): Promise<void> {
  const trail = await report(deps, id, query.runId);
  res.set('X-Audit-Source', trail.source);
  if (query.format === 'csv') {
    res.type('text/csv; charset=utf-8').attachment(`${id}-audit.csv`).send(trailCsv(trail));
  } else if (query.format === 'pdf') {
    res.type('application/pdf').send(await trailPdf(trail, deps.pages));
  } else {
    res.type('html').send(await trailHtml(trail, deps.pages));
  }
}

/** Sends the handover pack as a zip download. */
export async function sendPack(deps: AuditDeps, res: Response, id: string, runId: string | undefined) {
  const trail = await report(deps, id, runId);
  const zip = await handoverPack(trail, deps.documents, deps.pages);
  res
    .set('X-Audit-Source', trail.source)
    .type('application/zip')
    .attachment(`${id}-handover-pack.zip`)
    .send(Buffer.from(zip));
}

/** The auditor's view (docs/design.md §6): the trail in three formats and the handover pack. */
export function auditRoutes(routes: ApiRoutes, deps: AuditDeps) {
  const tag = 'audit';

  routes.add(
    {
      method: 'get',
      path: '/v1/transitions/:id/audit',
      summary:
        'The audit trail of the latest run (or ?runId=) from the workflow history (or its archive), with the document chain verified: JSON, CSV, printable HTML or PDF',
      roles: ['operator', 'auditor'],
      params: transitionIdParams,
      query: formatQuery,
      responses: { 200: 'The trail', 401: 'No key', 404: 'Unknown transition or run' },
      tag,
    },
    async ({ params, query, res }) => {
      if (query.format !== 'json') {
        await sendTrail(deps, res, params.id, { runId: query.runId, format: query.format });
        return undefined;
      }
      const trail = await report(deps, params.id, query.runId);
      res.set('X-Audit-Source', trail.source);
      return trail;
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/transitions/:id/pack',
      summary:
        'The handover pack of the latest run (or ?runId=): every document (Markdown, HTML, PDF), the trail (JSON, HTML, PDF), all of them in one PDF, and a manifest of SHA-256s, as a zip',
      roles: ['operator', 'auditor'],
      params: transitionIdParams,
      query: runQuery,
      responses: { 200: 'application/zip', 401: 'No key', 404: 'Unknown transition or run' },
      tag,
    },
    async ({ params, query, res }) => {
      await sendPack(deps, res, params.id, query.runId);
      return undefined;
    },
  );
}
