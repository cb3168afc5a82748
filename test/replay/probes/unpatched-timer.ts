// The offboarding with a timer added at its start and no patch: what the replay test must refuse.
import { sleep } from '@temporalio/workflow';
import type { RunbookInput } from '../../../domain/definitions.js';
import type { OffboardingRequest } from '../../../domain/schemas.js';
import { offboardingWorkflow as released } from '../../../workflows/offboarding/workflow.js';

export async function offboardingWorkflow(request: RunbookInput<OffboardingRequest>) {
  await sleep('1 second');
  return released(request);
}
