import type { Client } from '@temporalio/client';
import type { Response } from 'express';
import { z } from 'zod';
import type { DocumentStore } from '../../connectors/documents/port.js';
import {
  instant,
  limits,
  multiLine,
  offboardingSteps,
  onboardingSteps,
  person,
  shortText,
} from '../../domain/schemas.js';
import { documentPdf } from '../../audit/document-pdf.js';
import { maxTaskPage, sanitizationCategories } from '../../domain/definitions.js';
import { notFound } from '../errors.js';

const evidenceLimits = { url: 500, field: 150 } as const;
import type { ApiRoutes } from '../routes.js';
import { runQuery, runToRead } from './runs.js';
import type { Operations } from '../operations.js';
import { reasonBody, transitionIdParams } from './transitions.js';

// Sized so the evidence of every task of a step, at the largest scope, fits in one document's
// activity input (Temporal refuses payloads over 2 MB): about 3 kB a task, 500 tasks.
const evidenceField = shortText.max(evidenceLimits.field);
/** The NIST SP 800-88 record of one medium's sanitization, as a deletion task's evidence holds it. */
export const sanitizationRecord = z.object({
  mediaType: evidenceField.describe('the kind of medium: "S3 bucket", "SSD", "LTO-8 tape"'),
  mediaId: evidenceField.describe('which one: bucket name, serial number, barcode'),
  category: z.enum(sanitizationCategories).describe('NIST SP 800-88 category'),
  technique: evidenceField.describe('how: "cryptographic erase", "overwrite, 1 pass", "shredding"'),
  tool: evidenceField,
  toolVersion: evidenceField,
  verificationMethod: evidenceField.describe('how the result was checked: "full read-back", "listing"'),
  verificationResult: z.enum(['passed', 'failed']),
});
export const completeTaskBody = z.object({
  evidence: z.object({
    text: z
      .string()
      .trim()
      .min(1, 'describe what was done and how it was verified')
      .max(limits.longText)
      .check(multiLine),
    url: z.url().max(evidenceLimits.url).optional(),
    method: evidenceField.optional(),
    tool: evidenceField.optional(),
    verification: evidenceField.optional(),
    sanitization: sanitizationRecord
      .optional()
      .describe('For deletion tasks: the NIST SP 800-88 record of the medium sanitized'),
    validation: z
      .object({
        verificationMethod: evidenceField.describe(
          'what the second person checked again: "listing of the bucket and its versions", "read-back of sectors"',
        ),
        verificationResult: z.enum(['passed', 'failed']),
      })
      .optional()
      .describe(
        'For the validation task of a deletion (`retention-deletion.<data set>.validation`): the verification repeated by someone other than the performer, and its result',
      ),
    restore: z
      .object({
        startedAt: instant,
        endedAt: instant,
        integrityCheck: z.enum(['passed', 'failed']),
        verifiedBy: shortText,
      })
      .optional(),
  }),
});
const taskStatuses = ['open', 'completed', 'cancelled'] as const;
export const taskPageQuery = runQuery.extend({
  status: z.enum(taskStatuses).optional(),
  step: z.enum([...offboardingSteps, ...onboardingSteps]).optional(),
  cursor: z
    .string()
    .regex(/^[0-9]{1,9}$/, 'expected the nextCursor of an earlier page')
    .optional(),
  limit: z.coerce.number().int().min(1).max(maxTaskPage).default(100),
});
const taskId = z
  .string()
  .regex(
    /^[a-z-]+\.[a-z0-9-]+(\.validation)?$/,
    'expected a task id such as agent-removal.srv-01 or retention-deletion.ehr-backups.validation',
  );
export const completeTasksBody = z.object({
  items: z
    .array(z.object({ taskId, evidence: completeTaskBody.shape.evidence }))
    .min(1)
    .max(maxTaskPage),
});
export const taskParams = transitionIdParams.extend({
  taskId,
});
export const stepParams = transitionIdParams.extend({
  step: z.enum([...offboardingSteps, ...onboardingSteps]),
});
export const documentParams = transitionIdParams.extend({ docId: z.string().regex(/^[0-9]{2}-[a-z0-9-]+$/) });
export const reassignBody = reasonBody.extend({
  from: z.email().max(limits.text).toLowerCase(),
  to: person,
});
/** `pdf` is rendered on read from the stored Markdown (audit/document-pdf.ts); `md` and `html` are as stored. */
export const documentQuery = runQuery.extend({ format: z.enum(['md', 'html', 'pdf']).default('md') });

/** Tasks, approvals asked again, and the documents of a transition. */
export function stepRoutes(
  routes: ApiRoutes,
  deps: { temporal: Client; documents: DocumentStore; operations: Operations },
) {
  const tag = 'steps';
  const { operations } = deps;
  const operatorErrors = {
    400: 'Invalid body',
    401: 'No key',
    403: 'Not an operator',
    404: 'Unknown transition or task',
    409: 'Does not apply now',
  };

  routes.add(
    {
      method: 'post',
      path: '/v1/transitions/:id/tasks/:taskId/complete',
      summary: 'Finish a manual task with its evidence',
      roles: ['operator'],
      params: taskParams,
      body: completeTaskBody,
      responses: { 200: 'The completed task', ...operatorErrors },
      tag,
    },
    ({ params, body, caller }) => operations.completeTask(params.id, params.taskId, body.evidence, caller),
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/transitions/:id/tasks',
      summary:
        'The tasks of the latest run (or ?runId=), in the order they were opened, a page at a time: pass nextCursor back as cursor',
      roles: ['operator', 'auditor'],
      params: transitionIdParams,
      query: taskPageQuery,
      responses: {
        200: '{ tasks, nextCursor, counts }',
        400: 'Invalid query',
        401: 'No key',
        403: 'No role',
        404: 'Unknown transition',
      },
      tag,
    },
    ({ params, query }) => {
      const { runId, ...page } = query;
      return operations.tasks(params.id, runId, page);
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/transitions/:id/tasks/complete',
      summary:
        'Finish up to 1,000 manual tasks at once, each with its evidence: all are checked first, and one that is unknown or not open refuses the call',
      roles: ['operator'],
      params: transitionIdParams,
      body: completeTasksBody,
      responses: { 200: '{ completed, counts }', ...operatorErrors },
      tag,
    },
    ({ params, body, caller }) => operations.completeTasks(params.id, body.items, caller),
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/transitions/:id/tasks/:taskId/retry',
      summary:
        "Run a failed connector's automation of an open task again; answers at once, the task's connector running",
      roles: ['operator'],
      params: taskParams,
      status: 202,
      responses: { 202: 'The task, its connector running again', ...operatorErrors },
      tag,
    },
    ({ params, caller }) => operations.retryTask(params.id, params.taskId, caller),
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/transitions/:id/steps/:step/request-approval',
      summary: 'Ask the approvers again for a step held by a rejection',
      roles: ['operator'],
      params: stepParams,
      body: reasonBody,
      responses: { 200: 'New state', ...operatorErrors },
      tag,
    },
    ({ params, body, caller }) => operations.requestApproval(params.id, params.step, body.reason, caller),
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/transitions/:id/approvers',
      summary:
        "Replace an approver: the old person's links stop working, the new person gets links for every pending request",
      roles: ['operator'],
      params: transitionIdParams,
      body: reassignBody,
      responses: { 200: 'New state', ...operatorErrors },
      tag,
    },
    ({ params, body, caller }) => operations.reassignApprover(params.id, body, caller),
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/transitions/:id/documents',
      summary: 'The documents of the latest run of a transition (or ?runId=), in chain order',
      roles: ['operator', 'auditor'],
      params: transitionIdParams,
      query: runQuery,
      responses: { 200: 'Documents', 401: 'No key', 404: 'Unknown transition or run' },
      tag,
    },
    ({ params, query }) => documentsOf(deps, params.id, query.runId),
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/transitions/:id/documents/:docId',
      summary: 'One document of the latest run (or ?runId=), as Markdown (default), HTML or PDF (A4)',
      roles: ['operator', 'auditor'],
      params: documentParams,
      query: documentQuery,
      responses: { 200: 'The document', 401: 'No key', 404: 'No such document or run' },
      tag,
    },
    async ({ params, query, res }) => {
      await sendDocument(deps, res, params.id, params.docId, query);
      return undefined;
    },
  );
}

/** The documents of a run (the latest without `runId`), in chain order: for the API and the console alike. */
export async function documentsOf(
  deps: { temporal: Client; documents: DocumentStore },
  id: string,
  runId: string | undefined,
) {
  const run = await runToRead(deps, id, runId);
  const documents = await deps.documents.list(run);
  return {
    runId: run.runId,
    documents: documents.map(({ id, step, title, sha256, previousSha256, createdAt }) => ({
      id,
      step,
      title,
      sha256,
      previousSha256,
      createdAt,
    })),
  };
}

const documentTypes = {
  md: 'text/markdown; charset=utf-8',
  html: 'html',
  pdf: 'application/pdf',
} as const satisfies Record<z.infer<typeof documentQuery>['format'], string>;

/** Sends one document of a run as Markdown, HTML or PDF: for the API and the console alike. */
export async function sendDocument(
  deps: { temporal: Client; documents: DocumentStore },
  res: Response,
  id: string,
  docId: string,
  query: z.infer<typeof documentQuery>,
): Promise<void> {
  const run = await runToRead(deps, id, query.runId);
  const bytes =
    query.format === 'pdf'
      ? await documentPdf(deps.documents, run, docId)
      : await deps.documents.read(run, docId, query.format);
  if (!bytes) throw notFound('no such document');
  res.type(documentTypes[query.format]).send(bytes);
}
