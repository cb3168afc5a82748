import { describe, expect, it } from 'vitest';
import { inZones, offboardingDates, remindersBefore, sumDurations } from '../../domain/timeline.js';

describe('offboarding dates (docs/design.md §3)', () => {
  const terms = {
    noticeReceivedAt: '2026-11-22T00:00:00Z',
    noticePeriod: 'P30D',
    transitionPeriod: 'P60D',
    retentionPeriod: 'P90D',
  };

  it('computes cutover, end of assistance and deletion from the terms', () => {
    expect(offboardingDates(terms)).toEqual({
      noticeReceivedAt: '2026-11-22T00:00:00.000Z',
      cutoverAt: '2026-12-22T00:00:00.000Z',
      assistanceEndsAt: '2027-01-21T00:00:00.000Z',
      deletionDueAt: '2027-04-21T00:00:00.000Z',
    });
  });

  it('ends assistance no earlier than cutover', () => {
    const dates = offboardingDates({ ...terms, noticePeriod: 'P90D', transitionPeriod: 'P30D' });
    expect(dates.assistanceEndsAt).toBe(dates.cutoverAt);
  });

  it('adds calendar months in UTC', () => {
    expect(
      offboardingDates({ ...terms, noticeReceivedAt: '2027-01-31T12:00:00Z', noticePeriod: 'P1M' }).cutoverAt,
    ).toBe('2027-02-28T12:00:00.000Z');
  });

  it('sums extensions unit by unit', () => {
    expect(sumDurations('P30D', 'P15D')).toBe('P45D');
    expect(sumDurations('P1M', 'PT12H')).toBe('P1MT12H');
  });
});

describe('reminders before a deadline', () => {
  it('reminds 7 days and 1 day before for a period of 30 days or more', () => {
    expect(remindersBefore('2026-11-01T00:00:00Z', '2026-12-31T00:00:00Z')).toEqual([
      '2026-12-24T00:00:00.000Z',
      '2026-12-30T00:00:00.000Z',
    ]);
  });

  it('scales down in proportion for short periods', () => {
    expect(remindersBefore('2026-11-01T00:00:00Z', '2026-11-01T00:00:30Z')).toEqual([
      '2026-11-01T00:00:23.000Z',
      '2026-11-01T00:00:29.000Z',
    ]);
  });

  it('gives none for an empty period', () => {
    expect(remindersBefore('2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')).toEqual([]);
  });

  it('shows an instant in UTC and in the client zone', () => {
    expect(inZones('2026-12-22T00:00:00Z', 'America/Chicago')).toEqual({
      utc: '2026-12-22T00:00:00.000Z',
      local: '2026-12-21T18:00:00.000-06:00',
    });
  });
});
