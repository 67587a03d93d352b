/** Dates, ids and descriptions as the pages show them. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const clockMs = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hourCycle: 'h23' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** The time of day ("08:41:14 PM"); for log lines, on a 24-hour clock with milliseconds ("20:41:14.723"). */
export function formatClock(iso: string | null | undefined, millis = false): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : (millis ? clockMs : clock).format(date);
}

const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Infinity],
];

/** "3 minutes ago", "yesterday". */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  let amount = (then - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(amount) < size) return relative.format(Math.round(amount), unit);
    amount /= size;
  }
  return dateTime.format(new Date(then));
}

/**
 * The last 8 hex digits of a UUID, to tell ids apart at a glance. Not the first block, as
 * Prefect's UI shows: the server's ids are UUIDv7, whose first block is a clock that only
 * changes every ~65 s, so every version or run created within a minute would look the same.
 * The tail is random in both v7 and v4 ids.
 */
export const shortId = (id: string) => id.slice(-8);

/** The first non-empty line of a description, with markdown's leading markers removed. */
export function firstLine(text: string | null | undefined): string {
  const line = (text ?? '').split('\n').find((l) => l.trim() !== '') ?? '';
  return line.replace(/^\s*(?:#{1,6}\s+|[-*+]\s+|>\s*)/, '').replace(/[*_`]/g, '').trim();
}

export function plural(n: number, word: string): string {
  return `${n.toLocaleString()} ${word}${n === 1 ? '' : 's'}`;
}
