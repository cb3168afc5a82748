// The inbox: what waits on whom across running transitions, each section oldest first.
import { describe, expect, it } from 'vitest';
import { inbox } from '../../api/console/inbox.js';
import { offboardingState, openTask, pendingApproval } from '../support/transition-states.js';

const now = Date.parse('2026-11-10T12:00:00.000Z');

describe('the inbox', () => {
  it('lists pending approvals with who has not decided and the deadline, oldest first across transitions', () => {
    const older = offboardingState({
      id: 'offboarding-older',
      clientName: 'Older Co',
      approvals: [pendingApproval({ requestedAt: '2026-11-01T10:00:00.000Z' })],
    });
    const newer = offboardingState({
      id: 'offboarding-newer',
      clientName: 'Newer Co',
      timezone: 'Europe/Dublin',
      approvals: [
        pendingApproval({
          decisions: [
            {
              approver: 'dana@acme.example',
              decision: 'approve',
              comment: '',
              decidedAt: '2026-11-03T00:00:00.000Z',
              ip: '',
              userAgent: '',
            },
          ],
        }),
      ],
    });
    const [approvals] = inbox([newer, older], now);
    expect(approvals!.heading).toBe('Approvals pending');
    expect(approvals!.items.map((item) => [item.clientName, item.lines[0], item.age])).toEqual([
      ['Older Co', 'Not decided yet: dana@acme.example, sam@acme.example', '9 days'],
      ['Newer Co', 'Not decided yet: sam@acme.example', '8 days'],
    ]);
    expect(approvals!.items[1]).toMatchObject({
      on: 'client',
      href: '/console/transitions/offboarding-newer#approvals',
      deadline: { local: 'Sat 7 Nov 2026, 10:00 Dublin time', utc: '2026-11-07 10:00 UTC' },
    });
  });

  it('groups open tasks by step and names a few of them', () => {
    const tasks = Array.from({ length: 7 }, (_, index) =>
      openTask({ id: `agent-removal.ws-${index}`, title: `Remove agents from ws-${index}` }),
    );
    const [section] = inbox([offboardingState({ tasks })], now);
    expect(section!.items).toHaveLength(1);
    expect(section!.items[0]).toMatchObject({
      on: 'msp',
      title: '7 open tasks in Agent removal',
      lines: [...tasks.slice(0, 5).map((task) => task.title), 'and 2 more'],
    });
  });

  it('shows holds, stalls and the next date within 7 days, and nothing of ended transitions', () => {
    const held = offboardingState({
      id: 'offboarding-held',
      legalHold: true,
      controls: [
        { action: 'legal-hold-placed', actor: 'ops', reason: 'litigation', at: '2026-11-05T00:00:00.000Z' },
      ],
      dates: { startedAt: '2026-11-01T00:00:00.000Z', deletionDueAt: '2026-11-14T00:00:00.000Z' },
      nextTimer: { name: 'cutover', firesAt: '2026-11-12T00:00:00.000Z' },
      stalled: {
        step: 'cutover',
        activity: 'sendEmail',
        lastError: 'connect ECONNREFUSED',
        since: '2026-11-09T00:00:00.000Z',
        rounds: 3,
        operatorsNotified: true,
      },
    });
    const farOff = offboardingState({
      id: 'offboarding-far',
      dates: { startedAt: '2026-11-01T00:00:00.000Z', cutoverAt: '2026-12-20T00:00:00.000Z' },
    });
    const ended = offboardingState({ status: 'completed', tasks: [openTask()] });
    const sections = inbox([held, farOff, ended], now);
    expect(sections.map((section) => section.heading)).toEqual([
      'Stalled',
      'Legal holds',
      'Dates within 7 days',
    ]);
    expect(sections[0]!.items[0]!.lines).toEqual(['sendEmail keeps failing: connect ECONNREFUSED']);
    expect(sections[1]!.items[0]!.lines).toEqual(['By ops: litigation']);
    expect(sections[2]!.items[0]).toMatchObject({
      title: 'Cutover',
      on: null,
      since: { relative: 'in 1 day' },
    });
  });
});
