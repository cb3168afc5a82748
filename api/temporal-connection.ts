// The API's one connection to Temporal, with a deadline on every call: without one, a hung frontend
// keeps a request (and the caller's probe) waiting forever, and a refused one only fails after the
// SDK's ten retries, about 20 seconds later.
import {
  Connection,
  defaultGrpcRetryOptions,
  isGrpcServiceError,
  makeGrpcRetryInterceptor,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type ConnectionOptions,
} from '@temporalio/client';

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/** How long a call may wait for Temporal; past it the API answers 503 while a 1–5 s probe still listens. */
export const callTimeoutMillis = 2_000;

/**
 * Updates and queries wait for the worker to run their handler: a busy worker is slower than an idle
 * frontend but is not a missing Temporal, and a change that timed out leaves the caller unsure it
 * was made. A refused connection still answers within `callTimeoutMillis` (retries stop there).
 */
export const updateTimeoutMillis = 10_000;

const workerAnsweredMethods = ['/UpdateWorkflowExecution', '/PollWorkflowExecutionUpdate', '/QueryWorkflow'];

// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html): Temporal is away,
// late or overloaded; the request itself may be fine.
const CANCELLED = 1;
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;
/** A call cancelled on our side (its deadline passed) is a call Temporal did not answer in time. */
const timedOut = new Set([CANCELLED, DEADLINE_EXCEEDED]);
const awayStatuses = new Set([...timedOut, RESOURCE_EXHAUSTED, UNAVAILABLE]);

/** The gRPC status behind an error the Temporal client threw, when it says Temporal is away. */
export function temporalAwayStatus(error: unknown): 'timeout' | 'unavailable' | null {
  // The client wraps gRPC errors (ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError) in `cause`.
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    // An Update whose call timed out or was cancelled, its cause a gRPC DEADLINE_EXCEEDED or CANCELLED
    // or the SDK's CancelledFailure: Temporal did not answer it in time (a 500 under load before).
    if (current instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return 'timeout';
    if (isGrpcServiceError(current) && awayStatuses.has(current.code)) {
      return timedOut.has(current.code) ? 'timeout' : 'unavailable';
    }
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * Gives every call a deadline unless its caller set one, and retries what the SDK retries but only
 * while the next attempt can start within `callTimeoutMillis` of the first and before the deadline.
 */
export function boundedCalls(): Interceptor {
  const backoff = defaultGrpcRetryOptions();
  return (options, nextCall) => {
    const startedAt = Date.now();
    const path = options.method_definition.path;
    const timeout = workerAnsweredMethods.some((name) => path.endsWith(name))
      ? updateTimeoutMillis
      : callTimeoutMillis;
    const deadline = options.deadline ?? startedAt + timeout;
    // A busy workflow (e.g. its query buffer full while it takes a flood of signals) is worth waiting
    // for until the deadline; a Temporal that refuses or does not answer is not.
    const retryWhileBusyUntil = Number(deadline);
    const retryUntil = Math.min(Number(deadline), startedAt + callTimeoutMillis);
    // The SDK's interceptor asks whether to retry, then how long to wait: one jittered delay serves both.
    let delay = 0;
    const retry = makeGrpcRetryInterceptor({
      retryableDecider(attempt, status) {
        delay = backoff.delayFunction(attempt, status);
        const until = status.code === RESOURCE_EXHAUSTED ? retryWhileBusyUntil : retryUntil;
        return backoff.retryableDecider(attempt, status) && Date.now() + delay < until;
      },
      delayFunction: () => delay,
    });
    return retry({ ...options, deadline }, nextCall);
  };
}

/** A lazy connection whose every call is bounded (see `boundedCalls`). */
export function temporalConnection(address: string): Connection {
  return Connection.lazy({ address, interceptors: [boundedCalls()] });
}
