// Transition states as the workflow's state query answers them, for tests of what reads them.
import type { ApprovalState, TaskState, TransitionState } from '../../domain/definitions.js';
import { offboardingSteps } from '../../domain/schemas.js';

export const startedAt = '2026-11-01T09:00:00.000Z';

export function offboardingState(overrides: Partial<TransitionState> = {}): TransitionState {
  return {
    id: 'offboarding-acme',
    kind: 'offboarding',
    clientId: 'acme',
    clientName: 'Acme Dental LLC',
    timezone: 'America/Chicago',
    status: 'running',
    startedBy: 'ops',
    currentStep: 'cutover',
    dates: { startedAt },
    paused: false,
    legalHold: false,
    steps: offboardingSteps.map((key) => ({ key, status: 'pending' })),
    tasks: [],
    approvals: [],
    credentials: [],
    nextTimer: null,
    controls: [],
    ...overrides,
  };
}

export function openTask(overrides: Partial<TaskState> = {}): TaskState {
  return {
    id: 'agent-removal.srv-01',
    step: 'agent-removal',
    assetId: 'srv-01',
    title: 'Remove rmm from srv-01.acme.local and verify removal',
    status: 'open',
    createdAt: '2026-11-03T10:00:00.000Z',
    ...overrides,
  };
}

export function pendingApproval(overrides: Partial<ApprovalState> = {}): ApprovalState {
  return {
    requestId: 'agent-removal-1',
    title: 'Agent removal record',
    step: 'agent-removal',
    status: 'pending',
    policy: 'all',
    requestedAt: '2026-11-02T10:00:00.000Z',
    deadline: '2026-11-07T10:00:00.000Z',
    remindersSent: 0,
    approvers: ['dana@acme.example', 'sam@acme.example'],
    decisions: [],
    ...overrides,
  };
}
