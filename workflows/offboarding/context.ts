// What is truly the offboarding's own: the contract dates computed from the terms, which an
// operator may extend (recomputing them and re-arming the timers), and reminders ahead of them.
import { extendUpdate, type ExtendRequest, type RunbookInput } from '../../domain/definitions.js';
import { escapeMarkdown } from '../../domain/markdown.js';
import type { OffboardingRequest } from '../../domain/schemas.js';
import {
  dateInWords,
  dateInWordsAndUtc,
  offboardingDates,
  sumDurations,
  type OffboardingDates,
  type OffboardingPeriods,
} from '../../domain/timeline.js';
import type { Runbook } from '../runbook/runbook.js';
import { invalid } from '../runbook/state.js';
import type { RunbookContext } from '../runbook/step.js';

export interface OffboardingContext extends RunbookContext {
  request: RunbookInput<OffboardingRequest>;
  /** The dates as they stand now: an extension moves them. */
  dates(): OffboardingDates;
  /** Whom the dates concern: the client's approvers and the operators. */
  everyone(): string[];
  /** A reminder ahead of a deadline, to everyone, once per instant. */
  remindAhead(name: string, what: string): (at: string, deadline: string) => Promise<void>;
}

const periods = ['noticePeriod', 'transitionPeriod', 'retentionPeriod'];

/** Computes the dates into the state and registers the extend control. */
export function offboardingContext(
  runbook: Runbook,
  request: RunbookInput<OffboardingRequest>,
): OffboardingContext {
  // Extended in place: a run that continues as new carries the request's terms as they stand.
  const terms: OffboardingPeriods = request.terms;
  const dates = () => offboardingDates(terms);
  const syncDates = () => Object.assign(runbook.state.dates, dates());
  syncDates();

  runbook.controls.register<ExtendRequest>(
    extendUpdate,
    (extension) => {
      if (!periods.includes(extension.period)) throw invalid(`unknown period ${extension.period}`);
    },
    (extension) => {
      const before = terms[extension.period];
      terms[extension.period] = sumDurations(before, extension.by);
      syncDates();
      runbook.transition.recordControl('extended', extension, {
        period: extension.period,
        by: extension.by,
        from: before,
        to: terms[extension.period],
      });
    },
  );

  const everyone = () =>
    [...runbook.transition.approvers, ...request.contacts.operators].map((person) => person.email);
  const zone = request.client.timezone;
  return {
    runbook,
    request,
    dates,
    everyone,
    remindAhead: (name, what) => async (at, deadline) =>
      runbook.notices.send(
        `reminder:${name}:${at}`,
        everyone(),
        `Reminder: ${what} for ${request.client.name} on ${dateInWords(deadline, zone)}`,
        [
          `${what} for ${escapeMarkdown(request.client.name)} is due on ${dateInWordsAndUtc(deadline, zone)}.`,
        ],
      ),
  };
}
