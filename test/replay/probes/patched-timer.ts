// The same timer behind `patched()`: runs in flight replay the old branch, new runs take the new one.
import { patched, sleep } from '@temporalio/workflow';
import type { RunbookInput } from '../../../domain/definitions.js';
import type { OffboardingRequest } from '../../../domain/schemas.js';
import { offboardingWorkflow as released } from '../../../workflows/offboarding/workflow.js';

export async function offboardingWorkflow(request: RunbookInput<OffboardingRequest>) {
  if (patched('probe-timer-at-start')) await sleep('1 second');
  return released(request);
}
