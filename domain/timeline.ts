// Date arithmetic for the runbooks. Pure and deterministic, so the workflow and the API's dry run
// compute the same dates. Calendar units (P1M) are added in UTC.
import { DateTime, Duration } from 'luxon';

export interface OffboardingDates {
  noticeReceivedAt: string;
  cutoverAt: string;
  assistanceEndsAt: string;
  deletionDueAt: string;
}

export type OffboardingPeriod = 'noticePeriod' | 'transitionPeriod' | 'retentionPeriod';
export type OffboardingPeriods = Record<'noticeReceivedAt' | OffboardingPeriod, string>;

function utc(iso: string): DateTime {
  return DateTime.fromISO(iso, { zone: 'utc' });
}

export function addDuration(iso: string, duration: string): string {
  return utc(iso).plus(Duration.fromISO(duration)).toISO()!;
}

export function durationMillis(duration: string): number {
  return Duration.fromISO(duration).toMillis();
}

/** Sums two ISO durations unit by unit (P1M + P10D = P1M10D), as an extension should read. */
export function sumDurations(a: string, b: string): string {
  return Duration.fromISO(a).plus(Duration.fromISO(b)).toISO()!;
}

/** docs/design.md §3: cutover = notice + noticePeriod; assistance ends at max(cutover, notice + transitionPeriod); deletion after retention. */
function offboardingInstants(terms: OffboardingPeriods) {
  const noticeReceivedAt = utc(terms.noticeReceivedAt);
  const cutoverAt = noticeReceivedAt.plus(Duration.fromISO(terms.noticePeriod));
  const transitionEnds = noticeReceivedAt.plus(Duration.fromISO(terms.transitionPeriod));
  const assistanceEndsAt = DateTime.max(cutoverAt, transitionEnds);
  const deletionDueAt = assistanceEndsAt.plus(Duration.fromISO(terms.retentionPeriod));
  return { noticeReceivedAt, cutoverAt, transitionEnds, assistanceEndsAt, deletionDueAt };
}

/** The offboarding milestones, in UTC. */
export function offboardingDates(terms: OffboardingPeriods): OffboardingDates {
  const instants = offboardingInstants(terms);
  return {
    noticeReceivedAt: instants.noticeReceivedAt.toISO()!,
    cutoverAt: instants.cutoverAt.toISO()!,
    assistanceEndsAt: instants.assistanceEndsAt.toISO()!,
    deletionDueAt: instants.deletionDueAt.toISO()!,
  };
}

/**
 * The last instant an ISO 8601 date with a four-digit year can hold. Luxon and Temporal go further,
 * but the API's own date fields, and most readers of a document, stop here.
 */
export const latestDate = '9999-12-31T23:59:59.999Z';

interface ApprovalTiming {
  approvalTimeout: string;
  onTimeout: string;
}

/** When the links of an approval asked at `askedAt` stop working: an escalated request keeps them for another approvalTimeout. */
function approvalLinksEnd(askedAt: DateTime, terms: ApprovalTiming): DateTime {
  const timeout = Duration.fromISO(terms.approvalTimeout);
  const deadline = askedAt.plus(timeout);
  return terms.onTimeout === 'escalate' ? deadline.plus(timeout) : deadline;
}

/** The first term whose date lies past `latestDate` (or cannot be computed at all), or null. */
function firstPastLatestDate(dates: [term: string, at: DateTime][]): string | null {
  const latest = utc(latestDate);
  return dates.find(([, at]) => !at.isValid || at > latest)?.[0] ?? null;
}

/**
 * Which term, if any, makes an offboarding compute a date past `latestDate`: its milestones, and the
 * deadline and links of the last approval, asked once deletion is due (or now, if that has passed).
 */
export function offboardingTermPastLatestDate(
  terms: OffboardingPeriods & ApprovalTiming,
  now: string,
): string | null {
  const dates = offboardingInstants(terms);
  return firstPastLatestDate([
    ['noticePeriod', dates.cutoverAt],
    ['transitionPeriod', dates.transitionEnds],
    ['retentionPeriod', dates.deletionDueAt],
    ['approvalTimeout', approvalLinksEnd(DateTime.max(utc(now), dates.deletionDueAt), terms)],
  ]);
}

/**
 * Which term, if any, makes an onboarding compute a date past `latestDate`: the deadline and links of
 * an approval and the rotation due date of a credential, from its start (or now, if later).
 */
export function onboardingTermPastLatestDate(
  terms: ApprovalTiming & { startAt?: string; rotationPeriod: string },
  now: string,
): string | null {
  const start = terms.startAt ? DateTime.max(utc(now), utc(terms.startAt)) : utc(now);
  return firstPastLatestDate([
    ['approvalTimeout', approvalLinksEnd(start, terms)],
    ['rotationPeriod', start.plus(Duration.fromISO(terms.rotationPeriod))],
  ]);
}

const standardLeads = [Duration.fromObject({ days: 7 }), Duration.fromObject({ days: 1 })];
const standardSpanMillis = Duration.fromObject({ days: 30 }).toMillis();

/**
 * When to remind people ahead of a deadline: 7 days and 1 day before it for a period of 30 days
 * or more, scaled down in proportion for shorter periods (so a PT30S demo reminds 7 s and 1 s before).
 * Only reminders that fall after the period's start are returned, earliest first.
 */
export function remindersBefore(periodStart: string, deadline: string): string[] {
  const start = utc(periodStart);
  const end = utc(deadline);
  const span = end.toMillis() - start.toMillis();
  if (span <= 0) return [];
  const scale = Math.min(1, span / standardSpanMillis);
  return standardLeads
    .map((lead) => end.minus(Math.round(lead.toMillis() * scale)))
    .filter((at) => at > start)
    .map((at) => at.toISO()!);
}

/** The same instant in UTC and in the client's zone, as the dry run and documents show it. */
export function inZones(iso: string, timezone: string): { utc: string; local: string } {
  const at = utc(iso);
  return { utc: at.toISO()!, local: at.setZone(timezone).toISO()! };
}

/** The zone as a person names it: "Dublin time", "New York time", or "UTC". */
export function zoneLabel(timezone: string): string {
  if (timezone === 'UTC' || timezone === 'Etc/UTC') return 'UTC';
  return `${(timezone.split('/').at(-1) ?? timezone).replace(/_/g, ' ')} time`;
}

/** An instant in words in the client's zone: "Friday 28 November 2026, 17:00 (Dublin time)". */
export function dateInWords(iso: string, timezone: string): string {
  return `${utc(iso).setZone(timezone).setLocale('en-GB').toFormat('cccc d LLLL yyyy, HH:mm')} (${zoneLabel(timezone)})`;
}

/** The day of an instant in words in the client's zone: "Monday 23 November 2026 (Chicago time)". */
export function dayInWords(iso: string, timezone: string): string {
  return `${utc(iso).setZone(timezone).setLocale('en-GB').toFormat('cccc d LLLL yyyy')} (${zoneLabel(timezone)})`;
}

/** The time of an instant in the client's zone, and the instant in UTC, for a list grouped by day. */
export function timeAndUtc(iso: string, timezone: string): { time: string; utc: string } {
  return {
    time: utc(iso).setZone(timezone).toFormat('HH:mm:ss'),
    utc: `${utc(iso).toFormat('yyyy-LL-dd HH:mm:ss')} UTC`,
  };
}

/**
 * An instant for a document: in words in the client's zone, then in UTC, because documents are read
 * in more than one zone (the MSP's, an auditor's): "Monday 23 November 2026, 09:04 (Chicago time),
 * 2026-11-23 15:04:05 UTC". In UTC already, the words alone.
 */
export function dateInWordsAndUtc(iso: string, timezone: string): string {
  const words = dateInWords(iso, timezone);
  return zoneLabel(timezone) === 'UTC' ? words : `${words}, ${utc(iso).toFormat('yyyy-LL-dd HH:mm:ss')} UTC`;
}
