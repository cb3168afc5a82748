// Every instant the console shows, as a person at the MSP needs it: in the client's zone (the terms
// are the client's), in UTC (the logs, Temporal and the API are), and how far from now.
import { DateTime, IANAZone } from 'luxon';
import { zoneLabel } from '../../domain/timeline.js';

export interface When {
  iso: string;
  local: string;
  utc: string;
  relative: string;
}

export function when(iso: string, timezone: string, now = Date.now()): When {
  const at = DateTime.fromISO(iso, { zone: 'utc' });
  return {
    iso: at.toISO()!,
    local: `${at.setZone(timezone).setLocale('en-GB').toFormat('ccc d LLL yyyy, HH:mm')} ${zoneLabel(timezone)}`,
    utc: at.toFormat("yyyy-LL-dd HH:mm 'UTC'"),
    relative: at.toRelative({ base: DateTime.fromMillis(now), locale: 'en' }) ?? '',
  };
}

/** How long something has waited, in the largest unit that reads well: "3 days", "5 hours", "40 seconds". */
export function age(since: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(since)) / 1000));
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  const [size, unit] = units.find(([size]) => seconds >= size) ?? [1, 'second'];
  const count = Math.floor(seconds / size);
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/** A date typed in the client's zone (a datetime-local field), or an ISO instant with its offset as is. */
export function instantIn(value: string, zone: string): string {
  if (!value || /(Z|[+-]\d{2}:?\d{2})$/i.test(value)) return value;
  const at = DateTime.fromISO(value, { zone: IANAZone.isValidZone(zone) ? zone : 'UTC' });
  return at.isValid ? at.toISO()! : value;
}
