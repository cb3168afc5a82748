// What the API answers when Temporal does not answer a call in time: 503 (the change may or may not
// have been made), never a 500, whichever way the SDK words the timeout.
import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { knownHttpError } from '../../api/errors.js';

/** gRPC status codes: https://grpc.github.io/grpc/core/md_doc_statuscodes.html */
const status = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, UNAVAILABLE: 14 } as const;
const grpcError = (code: number) =>
  Object.assign(new Error(`gRPC ${code}`), { code, details: '', metadata: {} });

describe('an Update Temporal did not answer in time', () => {
  it.each([
    ['its call cancelled (CancelledFailure)', new CancelledFailure('cancelled')],
    ['gRPC CANCELLED', grpcError(status.CANCELLED)],
    ['gRPC DEADLINE_EXCEEDED', grpcError(status.DEADLINE_EXCEEDED)],
  ])('answers 503 when %s', (_name, cause) => {
    const error = new WorkflowUpdateRPCTimeoutOrCancelledError('Workflow update call timeout or cancelled', {
      cause,
    });
    expect(knownHttpError(error, 'POST')).toMatchObject({ status: 503, code: 'temporal_unavailable' });
  });

  it('answers 503 for a query whose call was cancelled at its deadline (seen at 10,000 devices)', () => {
    const cancelled = new ServiceError('Failed to query Workflow', { cause: grpcError(status.CANCELLED) });
    expect(knownHttpError(cancelled, 'GET')).toMatchObject({ status: 503, code: 'temporal_unavailable' });
  });

  it('answers 503 for an unreachable frontend, and leaves a bug a bug', () => {
    const unreachable = new ServiceError('unreachable', { cause: grpcError(status.UNAVAILABLE) });
    expect(knownHttpError(unreachable, 'GET')).toMatchObject({ status: 503 });
    expect(knownHttpError(new TypeError('x is undefined'), 'GET')).toBeNull();
  });
});
