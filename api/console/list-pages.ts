// The inbox (what waits on whom) and the list of transitions with their real status. Both list by
// Temporal visibility, a page at a time, and read the state of the transitions on that page only.
import type { Router } from 'express';
import { z } from 'zod';
import type { TransitionState } from '../../domain/definitions.js';
import { transitionKinds } from '../../domain/schemas.js';
import type { TransitionSummary } from '../operations.js';
import { listQuery } from '../routes/transitions.js';
import { consoleStatuses, realStatus, waitingOf, type ConsoleStatus } from '../waiting.js';
import { age, when } from './dates.js';
import { comingUpDays, inbox } from './inbox.js';
import { liveSource } from './live.js';
import type { ConsoleContext } from './router.js';

const inboxPageSize = 50;
const listPageSize = 25;
/** How many running transitions a filter on a status only their state shows may read. */
const derivedStatusScan = 200;

const page = z.coerce.number().int().min(1).max(10_000).catch(1);
/** The API's own filters, a console status instead of Temporal's, and a page; "any" sends ''. */
const consoleListQuery = z.preprocess(
  (query) => Object.fromEntries(Object.entries(query as object).filter(([, value]) => value !== '')),
  listQuery.pick({ clientId: true, kind: true }).extend({ status: z.enum(consoleStatuses).optional(), page }),
);
/** Statuses Temporal visibility can filter on by itself; the others need each running state. */
const visibleStatuses = ['completed', 'cancelled', 'failed'] as const;

export function listPages(router: Router, context: ConsoleContext) {
  const { operations, console } = context;

  router.get('/console', async (req, res) => {
    const number = page.parse(req.query.page);
    const { transitions, more } = await operations.list(
      { status: 'running' },
      { offset: (number - 1) * inboxPageSize, limit: inboxPageSize },
    );
    const states = (await operations.readStates(transitions)).filter((state) => state !== null);
    const sections = inbox(states);
    const items = sections.flatMap((section) => section.items);
    await console.send(res, 200, {
      title: 'Inbox',
      template: 'inbox',
      nav: 'inbox',
      session: context.sessionOf(res),
      live: await liveSource(context.temporal, { ids: transitions.map((t) => t.id), list: true }),
      context: {
        sections,
        total: items.filter((item) => item.on).length,
        onClient: items.filter((item) => item.on === 'client').length,
        onMsp: items.filter((item) => item.on === 'msp').length,
        dates: items.filter((item) => !item.on).length,
        unread: transitions.length - states.length,
        comingUpDays,
        pageSize: inboxPageSize,
        more,
        next: number + 1,
        previous: number > 1 ? number - 1 : null,
      },
    });
  });

  router.get('/console/transitions', async (req, res) => {
    const parsed = consoleListQuery.safeParse(req.query);
    const query: z.output<typeof consoleListQuery> = parsed.success ? parsed.data : { page: 1 };
    const { clientId, kind, status } = query;
    const filters = { clientId, kind };
    const offset = (query.page - 1) * listPageSize;
    let rows: { transition: TransitionSummary; state: TransitionState | null }[];
    let more: boolean;
    let scanned: number | null = null;
    if (status && !(visibleStatuses as readonly string[]).includes(status)) {
      const running = await operations.list(
        { ...filters, status: 'running' },
        { offset: 0, limit: derivedStatusScan },
      );
      const states = await operations.readStates(running.transitions);
      const matching = running.transitions
        .map((transition, index) => ({ transition, state: states[index]! }))
        .filter(({ state }) => state && realStatus('running', waitingOf(state)) === status);
      rows = matching.slice(offset, offset + listPageSize);
      more = matching.length > offset + listPageSize;
      scanned = running.transitions.length;
    } else {
      const listed = await operations.list(
        { ...filters, status: status as (typeof visibleStatuses)[number] | undefined },
        { offset, limit: listPageSize },
      );
      const states = await operations.readStates(listed.transitions);
      rows = listed.transitions.map((transition, index) => ({ transition, state: states[index]! }));
      more = listed.more;
    }
    const href = (number: number) => {
      const chosen = Object.entries({ clientId, kind, status }).filter(([, value]) => value);
      return `/console/transitions?${new URLSearchParams([...chosen, ['page', String(number)]] as string[][])}`;
    };
    await console.send(res, parsed.success ? 200 : 400, {
      title: 'Transitions',
      template: 'transitions',
      nav: 'transitions',
      session: context.sessionOf(res),
      live: await liveSource(context.temporal, { ids: rows.map((r) => r.transition.id), list: true }),
      context: {
        problem: parsed.success ? undefined : 'These filters are not valid: showing every transition.',
        filters: { clientId },
        kinds: transitionKinds.map((value) => ({ value, selected: value === kind })),
        statuses: consoleStatuses.map((value) => ({ value, selected: value === status })),
        rows: rows.map(({ transition, state }) => row(transition, state)),
        first: offset + 1,
        last: offset + rows.length,
        previousHref: query.page > 1 ? href(query.page - 1) : null,
        nextHref: more ? href(query.page + 1) : null,
        scanned,
      },
    });
  });
}

/** A row of the list: what visibility knows, refined by the state when it was read in time. */
function row(transition: TransitionSummary, state: TransitionState | null) {
  const waiting =
    state && transition.status === 'running' ? waitingOf({ ...state, status: 'running' }) : null;
  const status: ConsoleStatus = realStatus(transition.status, waiting);
  return {
    ...transition,
    clientName: state?.clientName,
    status,
    statusClass: status.replace(/ /g, '-'),
    waiting,
    waitingFor: waiting ? age(waiting.since) : null,
    unread: transition.status === 'running' && !state,
    started: when(transition.startedAt, state?.timezone ?? 'UTC'),
  };
}
