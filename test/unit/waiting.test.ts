import { describe, expect, it } from 'vitest';
import { realStatus, waitingOf } from '../../api/waiting.js';
import { offboardingState, openTask, pendingApproval } from '../support/transition-states.js';

const decision = {
  approver: 'dana@acme.example',
  comment: 'not yet',
  decidedAt: '2026-11-02T12:00:00.000Z',
  ip: '127.0.0.1',
  userAgent: 'test',
};

describe('what a running transition waits on', () => {
  it('nothing while only a timer runs, and nothing once it has ended', () => {
    const onTimer = offboardingState({ nextTimer: { name: 'cutover', firesAt: '2026-12-01T00:00:00Z' } });
    expect(waitingOf(onTimer)).toBeNull();
    expect(realStatus('running', waitingOf(onTimer))).toBe('running');
    expect(waitingOf(offboardingState({ status: 'completed', tasks: [openTask()] }))).toBeNull();
  });

  it('the client, for an approval, naming who has not decided', () => {
    const state = offboardingState({
      approvals: [pendingApproval({ decisions: [{ ...decision, decision: 'approve' }] })],
    });
    expect(waitingOf(state)).toEqual({
      on: 'client',
      for: 'approval',
      since: '2026-11-02T10:00:00.000Z',
      detail: 'approval of Agent removal by sam@acme.example',
    });
    expect(realStatus('running', waitingOf(state))).toBe('waiting on client');
  });

  it('the MSP, for open tasks, since the oldest', () => {
    const state = offboardingState({
      tasks: [openTask({ createdAt: '2026-11-04T00:00:00.000Z' }), openTask({ id: 'agent-removal.ws-02' })],
    });
    expect(waitingOf(state)).toMatchObject({ on: 'msp', for: 'task', since: '2026-11-03T10:00:00.000Z' });
    expect(realStatus('running', waitingOf(state))).toBe('waiting on MSP');
  });

  it('a rotated credential waits on the MSP, one to vault waits on the client', () => {
    const credential = {
      id: 'domain-admin',
      system: 'Active Directory',
      account: 'Administrator',
      status: 'awaiting' as const,
      requestedAt: '2026-11-05T00:00:00.000Z',
      remindersSent: 0,
    };
    const rotation = offboardingState({ credentials: [{ ...credential, step: 'credential-rotation' }] });
    const vaulting = offboardingState({ credentials: [{ ...credential, step: 'credential-vaulting' }] });
    expect(waitingOf(rotation)).toMatchObject({ on: 'msp', for: 'credential' });
    expect(waitingOf(vaulting)).toMatchObject({ on: 'client', for: 'credential' });
  });

  it('a rejection holds the transition, whatever else waits', () => {
    const state = offboardingState({
      steps: offboardingState().steps.map((step) =>
        step.key === 'agent-removal' ? { ...step, status: 'rejected' } : step,
      ),
      approvals: [
        pendingApproval({
          status: 'rejected',
          settledAt: '2026-11-02T12:00:00.000Z',
          decisions: [{ ...decision, decision: 'reject' }],
        }),
      ],
      tasks: [openTask()],
    });
    expect(waitingOf(state)).toEqual({
      on: 'msp',
      for: 'rejection',
      since: '2026-11-02T12:00:00.000Z',
      detail: 'Agent removal rejected by dana@acme.example',
    });
    expect(realStatus('running', waitingOf(state))).toBe('held');
  });

  it('a pause holds it; a stall comes first of all', () => {
    const paused = offboardingState({
      paused: true,
      controls: [{ action: 'paused', actor: 'ops', reason: 'asked', at: '2026-11-06T00:00:00.000Z' }],
    });
    expect(waitingOf(paused)).toMatchObject({ for: 'pause', since: '2026-11-06T00:00:00.000Z' });
    expect(realStatus('running', waitingOf(paused))).toBe('held');
    const stalled = offboardingState({
      paused: true,
      stalled: {
        step: 'cutover',
        activity: 'sendEmail',
        lastError: 'connection refused',
        since: '2026-11-06T01:00:00.000Z',
        rounds: 2,
        operatorsNotified: true,
      },
    });
    expect(realStatus('running', waitingOf(stalled))).toBe('stalled');
  });

  it('a legal hold holds it only once deletion is due', () => {
    const beforeDue = offboardingState({
      legalHold: true,
      currentStep: 'retention-deletion',
      nextTimer: { name: 'deletion', firesAt: '2027-01-01T00:00:00Z' },
    });
    expect(waitingOf(beforeDue)).toBeNull();
    const due = offboardingState({ legalHold: true, currentStep: 'retention-deletion' });
    expect(waitingOf(due)).toMatchObject({ on: 'msp', for: 'legal-hold' });
    expect(realStatus('running', waitingOf(due))).toBe('held');
  });
});
