// Reads the chain header of each activity call (set by workflows/interceptors.ts) for `currentRun`.
// Headers do not go through the payload codec; this one carries only a run id.
import { defaultPayloadConverter } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { chainOfActivity } from '../activities/run.js';
import { chainHeader } from '../domain/activity-contracts.js';

export const chainHeaderInterceptor: ActivityInterceptorsFactory = (context) => ({
  inbound: {
    execute(input, next) {
      const payload = input.headers[chainHeader];
      if (payload) chainOfActivity.set(context, defaultPayloadConverter.fromPayload<string>(payload));
      return next(input);
    },
  },
});
