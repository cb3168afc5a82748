// The offboarding's steps, in the order they run (and the order of `offboardingSteps`).
import type { OffboardingStep } from '../../../domain/schemas.js';
import type { AnyStep } from '../../runbook/step.js';
import type { OffboardingContext } from '../context.js';
import { agentRemoval } from './agent-removal.js';
import { closure } from './closure.js';
import { credentialRotation } from './credential-rotation.js';
import { cutover } from './cutover.js';
import { dataExport } from './data-export.js';
import { retentionDeletion } from './retention-deletion.js';
import { terminationNotice } from './termination-notice.js';
import { transitionAssistance } from './transition-assistance.js';

export const offboardingStepList = [
  terminationNotice,
  dataExport,
  cutover,
  agentRemoval,
  credentialRotation,
  transitionAssistance,
  retentionDeletion,
  closure,
] as const satisfies readonly (AnyStep<OffboardingContext> & { key: OffboardingStep })[];
