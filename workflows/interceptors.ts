// Every activity call carries the first run id of its run's chain in a header: a run that continued
// as new is the same transition run to the activities (their documents, links, mail keys, vault ids).
import { defaultPayloadConverter } from '@temporalio/common';
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { chainHeader } from '../domain/activity-contracts.js';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        const chain = defaultPayloadConverter.toPayload(workflowInfo().firstExecutionRunId);
        return next({ ...input, headers: { ...input.headers, [chainHeader]: chain } });
      },
    },
  ],
});
