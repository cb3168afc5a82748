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
};

/** Maps what the Temporal client throws to the API's answers; null when it is not a known case. */
export function fromTemporal(error: unknown): HttpError | null {
  if (error instanceof WorkflowExecutionAlreadyStartedError) {
    return new HttpError(409, 'conflict', `a transition with id ${error.workflowId} is already running`);
  }
  if (finishedAlready(error)) return new HttpError(409, 'conflict', 'the transition has already finished');
  if (error instanceof WorkflowNotFoundError) return notFound('no such transition');
  if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure && cause.type && failureStatus[cause.type]) {
      const [status, code] = failureStatus[cause.type]!;
      return new HttpError(status, code, cause.message);
    }
  }
  return null;
}

/** An Update sent to a closed workflow: the server answers NotFound, but the transition exists. */
function finishedAlready(error: unknown): boolean {
  return (
    (error instanceof WorkflowNotFoundError || error instanceof ServiceError) &&
    /workflow execution already completed/i.test(error.message)
  );
}

export function zodError(error: z.ZodError, where: string): HttpError {
  return new HttpError(
    400,
    'invalid_request',
    `invalid ${where}: ${z.prettifyError(error).split('\n').join(' ')}`,
    error.issues,
  );
}

/** The one error handler: `{ error: { code, message, details? } }`; unknown errors answer a bare 500 with a request id. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let http = error instanceof HttpError ? error : fromTemporal(error);
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
    res.status(http.status).json({
      error: { code: http.code, message: http.message, ...(http.details ? { details: http.details } : {}) },
    });
  };
}
