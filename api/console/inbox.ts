// The console's first page: everything that waits on someone, from the states of the running
// transitions, each section oldest first (dates soonest first), each item linking to its transition.
import type { TransitionState } from '../../domain/definitions.js';
import type { StepKey } from '../../domain/schemas.js';
import { stepLabel, undecided } from '../waiting.js';
import { age, when, type When } from './dates.js';

export interface InboxItem {
  transitionId: string;
  clientName: string;
  href: string;
  /** Who has to act; null for a date, which only comes closer. */
  on: 'client' | 'msp' | null;
  title: string;
  lines: string[];
  since: When;
  age: string;
  deadline?: When;
}

export interface InboxSection {
  key: string;
  heading: string;
  items: InboxItem[];
}

/** How far ahead a date counts as coming up. */
export const comingUpDays = 7;
/** How many items of a group the inbox names before "and N more". */
const namedItems = 5;

const timerLabels: Record<string, string> = {
  cutover: 'Cutover',
  'assistance-end': 'End of transition assistance',
  deletion: 'Deletion of retained data due',
  start: 'Onboarding starts',
};
const dateLabels: Record<string, string> = {
  cutoverAt: 'Cutover',
  assistanceEndsAt: 'End of transition assistance',
  deletionDueAt: 'Deletion of retained data due',
};

function named(lines: string[]): string[] {
  const more = lines.length - namedItems;
  return more > 0 ? [...lines.slice(0, namedItems), `and ${more} more`] : lines;
}

/** Groups by step, keeping the order of first appearance. */
function byStep<T extends { step: StepKey }>(items: T[]): [StepKey, T[]][] {
  const groups = new Map<StepKey, T[]>();
  for (const item of items) groups.set(item.step, [...(groups.get(item.step) ?? []), item]);
  return [...groups];
}

/** The earliest of a transition's coming dates (its running timer and its milestones), if any. */
function nextDate(state: TransitionState, now: number): { label: string; at: string } | null {
  const candidates = [
    ...(state.nextTimer
      ? [{ label: timerLabels[state.nextTimer.name] ?? state.nextTimer.name, at: state.nextTimer.firesAt }]
      : []),
    ...Object.entries(dateLabels).flatMap(([name, label]) => {
      const at = state.dates[name as keyof typeof state.dates];
      return at ? [{ label, at }] : [];
    }),
  ].filter((candidate) => Date.parse(candidate.at) > now);
  return candidates.sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0] ?? null;
}

function itemsOf(state: TransitionState, now: number): Record<string, InboxItem[]> {
  const href = `/console/transitions/${state.id}`;
  const item = (
    anchor: string,
    on: InboxItem['on'],
    title: string,
    since: string,
    lines: string[] = [],
  ): InboxItem => ({
    transitionId: state.id,
    clientName: state.clientName,
    href: `${href}#${anchor}`,
    on,
    title,
    lines,
    since: when(since, state.timezone, now),
    age: age(since, now),
  });
  const lastControl = (action: string) => state.controls.filter((c) => c.action === action).at(-1);
  const next = nextDate(state, now);
  return {
    approvals: state.approvals
      .filter((approval) => approval.status === 'pending')
      .map((approval) => ({
        ...item('approvals', 'client', `Approval of ${stepLabel(approval.step)}`, approval.requestedAt, [
          `Not decided yet: ${undecided(approval).join(', ')}`,
          ...(approval.escalatedAt ? ['Past its deadline: escalated to the operators'] : []),
        ]),
        deadline: when(approval.deadline, state.timezone, now),
      })),
    tasks: byStep(state.tasks.filter((task) => task.status === 'open')).map(([step, tasks], _, steps) => {
      // The state lists the first open tasks and counts them all (one step's, as steps run in turn).
      const open = steps.length === 1 && state.taskCounts ? state.taskCounts.open : tasks.length;
      return item(
        'tasks',
        'msp',
        `${open} open task${open === 1 ? '' : 's'} in ${stepLabel(step)}`,
        tasks.map((task) => task.createdAt).sort()[0]!,
        named(tasks.map((task) => task.title)),
      );
    }),
    credentials: byStep(state.credentials.filter((c) => c.status === 'awaiting')).map(([step, credentials]) =>
      item(
        'credentials',
        step === 'credential-rotation' ? 'msp' : 'client',
        step === 'credential-rotation'
          ? `${credentials.length} rotated credential${credentials.length === 1 ? '' : 's'} to type in`
          : `${credentials.length} credential${credentials.length === 1 ? '' : 's'} awaited from the client`,
        credentials.map((credential) => credential.requestedAt).sort()[0]!,
        named(credentials.map((credential) => `${credential.account} on ${credential.system}`)),
      ),
    ),
    rejections: state.steps
      .filter((step) => step.status === 'rejected')
      .map((step) => {
        const approval = state.approvals.filter((a) => a.step === step.key && a.status === 'rejected').at(-1);
        const rejections = approval?.decisions.filter((d) => d.decision === 'reject') ?? [];
        return item(
          'approvals',
          'msp',
          `${stepLabel(step.key)} held by a rejection`,
          approval?.settledAt ?? step.startedAt ?? state.dates.startedAt,
          rejections.length
            ? rejections.map((d) => `${d.approver}: ${d.comment || '(no comment)'}`)
            : ['No decision before the deadline'],
        );
      }),
    stalled: state.stalled
      ? [
          item(
            'steps',
            'msp',
            `${state.stalled.step ? stepLabel(state.stalled.step) : 'The transition'} is stalled`,
            state.stalled.since,
            [`${state.stalled.activity} keeps failing: ${state.stalled.lastError}`],
          ),
        ]
      : [],
    paused: state.paused
      ? [
          item('controls', 'msp', 'Paused', lastControl('paused')?.at ?? state.dates.startedAt, [
            `By ${lastControl('paused')?.actor ?? 'an operator'}: ${lastControl('paused')?.reason ?? ''}`,
          ]),
        ]
      : [],
    legalHolds: state.legalHold
      ? [
          item(
            'controls',
            'msp',
            'Legal hold',
            lastControl('legal-hold-placed')?.at ?? state.dates.startedAt,
            [
              `By ${lastControl('legal-hold-placed')?.actor ?? 'an operator'}: ${lastControl('legal-hold-placed')?.reason ?? ''}`,
            ],
          ),
        ]
      : [],
    comingUp:
      next && Date.parse(next.at) - now <= comingUpDays * 86_400_000
        ? [{ ...item('dates', null, next.label, next.at), age: '' }]
        : [],
  };
}

const sections: [key: string, heading: string][] = [
  ['approvals', 'Approvals pending'],
  ['tasks', 'Open tasks'],
  ['credentials', 'Credentials awaiting a secret'],
  ['rejections', 'Steps held by a rejection'],
  ['stalled', 'Stalled'],
  ['paused', 'Paused'],
  ['legalHolds', 'Legal holds'],
  ['comingUp', `Dates within ${comingUpDays} days`],
];

/** What waits, by section; sections with nothing in them are left out. */
export function inbox(states: TransitionState[], now = Date.now()): InboxSection[] {
  const perState = states.filter((state) => state.status === 'running').map((state) => itemsOf(state, now));
  return sections
    .map(([key, heading]) => ({
      key,
      heading,
      items: perState
        .flatMap((items) => items[key] ?? [])
        // Oldest first; a date, soonest first: both are ascending by instant.
        .sort((a, b) => Date.parse(a.since.iso) - Date.parse(b.since.iso)),
    }))
    .filter((section) => section.items.length > 0);
}
