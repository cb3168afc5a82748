import type { ErrorRequestHandler } from 'express';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ServiceError } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { failureTypes } from '../domain/definitions.js';
import { temporalAwayStatus } from './temporal-connection.js';

/** An error with a stable code and an HTTP status; its message is safe to show. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (message: string) => new HttpError(404, 'not_found', message);

const failureStatus: Record<string, [number, string]> = {
  [failureTypes.conflict]: [409, 'conflict'],
  [failureTypes.notFound]: [404, 'not_found'],
  [failureTypes.invalid]: [400, 'invalid_request'],
  [failureTypes.gone]: [410, 'gone'],
  [failureTypes.resuming]: [503, 'resuming'],
};

/** Maps what the Temporal client throws to the API's answers; null when it is not a known case. */
export function fromTemporal(error: unknown): HttpError | null {
  if (error instanceof WorkflowExecutionAlreadyStartedError) {
    return new HttpError(409, 'conflict', `a transition with id ${error.workflowId} is already running`);
  }
  if (finishedAlready(error)) return new HttpError(409, 'conflict', 'the transition has already finished');
  if (updateLimitReached(error))
    return new HttpError(
      409,
      'update_limit',
      'this run has taken as many changes as Temporal allows one run, so it can take no more (cancel still works): complete tasks in batches with POST /v1/transitions/:id/tasks/complete',
    );
  if (error instanceof WorkflowNotFoundError) return notFound('no such transition');
  if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure) return fromWorkflowFailure(cause);
  }
  return null;
}

/** A workflow's refusal (a validator's, or an item's of a batch) as the API answers it; null when not one of ours. */
export function fromWorkflowFailure(failure: { type?: string | null; message: string }): HttpError | null {
  const known = failure.type ? failureStatus[failure.type] : undefined;
  if (!known) return null;
  const [status, code] = known;
  return new HttpError(status, code, failure.message);
}

/** How Temporal servers word it: "limit on number of total updates", "limit on the total number of distinct updates". */
const updateLimitWording = /limit on (the )?(total )?number of (total |distinct )?updates/i;

/** Temporal refuses an Update past its limit of Updates per run (FAILED_PRECONDITION, found by its wording). */
export function updateLimitReached(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error && updateLimitWording.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** An Update sent to a closed workflow: the server answers NotFound, but the transition exists. */
function finishedAlready(error: unknown): boolean {
  return (
    (error instanceof WorkflowNotFoundError || error instanceof ServiceError) &&
    /workflow execution already completed/i.test(error.message)
  );
}

/** How long a caller should wait before asking again while Temporal is away. */
export const retryAfterSeconds = 5;

/**
 * Temporal away, late or overloaded: 503, not 500, and a caller who asked for a change learns that
 * it may have been made all the same (the call can fail after Temporal received it).
 */
export function temporalUnavailable(error: unknown, method: string): HttpError | null {
  const away = temporalAwayStatus(error);
  if (!away) return null;
  const why =
    away === 'timeout' ? 'Temporal did not answer in time' : 'Temporal is unreachable or overloaded';
  const next =
    method === 'GET'
      ? 'try again shortly'
      : 'the change may or may not have been made: read the transition before sending it again';
  return new HttpError(503, 'temporal_unavailable', `${why}; ${next}`);
}

/** The public link pages answer browsers, which show HTML and not a JSON error. */
const linkPagePath = /^\/(approvals|intake|reveal)\//;

function unavailableLinkPage(method: string): string {
  const text =
    method === 'GET'
      ? 'This page cannot be shown right now. Open the link from your email again in a few minutes.'
      : 'Your answer could not be confirmed right now. Open the link from your email again in a few minutes: the page will show whether it was recorded.';
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Try again in a few minutes</title></head>' +
    `<body><h1>Try again in a few minutes</h1><p>${text}</p></body></html>`
  );
}

/** The answer to an error the API knows (its own, or Temporal's refusal or absence); null for a bug. */
export function knownHttpError(error: unknown, method: string): HttpError | null {
  return error instanceof HttpError ? error : (fromTemporal(error) ?? temporalUnavailable(error, method));
}

export function zodError(error: z.ZodError, where: string): HttpError {
  return new HttpError(
    400,
    'invalid_request',
    `invalid ${where}: ${z.prettifyError(error).split('\n').join(' ')}`,
    error.issues,
  );
}

/**
 * The one error handler: `{ error: { code, message, details? } }` (a small HTML page on the public
 * link pages when Temporal is away); unknown errors answer a bare 500 with a request id.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let http = knownHttpError(error, req.method);
    const bodyError = error as { type?: string; status?: number };
    if (!http && bodyError.type === 'entity.too.large') {
      http = new HttpError(413, 'payload_too_large', 'the request body is too large');
    } else if (!http && bodyError.type === 'entity.parse.failed') {
      http = new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
    } else if (!http && bodyError.status === 415) {
      http = new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    }
    if (!http) {
      logger.error({ err: error, requestId: req.id }, 'unhandled error');
      http = new HttpError(500, 'internal', `internal error (request id ${String(req.id)})`);
    }
    if (http.code === 'temporal_unavailable') {
      logger.warn({ err: error, requestId: req.id }, 'temporal unavailable');
    }
    if (http.status === 503) res.set('Retry-After', String(retryAfterSeconds));
    if (http.code === 'temporal_unavailable' && linkPagePath.test(req.path)) {
      res.status(503).set('Cache-Control', 'no-store').type('html').send(unavailableLinkPage(req.method));
      return;
    }
    res.status(http.status).json({
      error: { code: http.code, message: http.message, ...(http.details ? { details: http.details } : {}) },
    });
  };
}
