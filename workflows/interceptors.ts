// Every activity call carries the first run id of its run's chain in a header: a run that continued
// as new is the same transition run to the activities (their documents, links, mail keys, vault ids).
// And a run still reading its carried memory back refuses queries and Updates for that moment.
import { defaultPayloadConverter } from '@temporalio/common';
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { chainHeader } from '../domain/activity-contracts.js';
import { isResuming, resumingFailure } from './runbook/chain.js';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  // A run resuming from a stored checkpoint answers nothing from its blank state (see chain.ts).
  inbound: [
    {
      validateUpdate(input, next) {
        if (isResuming()) throw resumingFailure();
        next(input);
      },
      // Async, so a refusal is a rejected promise: thrown at once, it would fail the workflow task
      // that carried the query (and every retry of it while queries keep coming).
      async handleQuery(input, next) {
        if (isResuming()) throw resumingFailure();
        return next(input);
      },
    },
  ],
  outbound: [
    {
      scheduleActivity(input, next) {
        const chain = defaultPayloadConverter.toPayload(workflowInfo().firstExecutionRunId);
        return next({ ...input, headers: { ...input.headers, [chainHeader]: chain } });
      },
    },
  ],
});
