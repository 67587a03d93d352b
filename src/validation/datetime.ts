/**
 * ISO-8601 parsing for filter bounds (`before_`, `after_`), to µs since the epoch. Accepts what
 * clients send in practice: a date, or a date and time with optional fraction (any precision,
 * truncated to µs) and optional `Z`/`±hh:mm`/`±hhmm` offset; without an offset the value is UTC,
 * as pendulum reads it upstream.
 */

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2})?)?$/;

export function parseDateTime(input: string): number | undefined {
  const m = ISO.exec(input.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', , sign, oh = '0', om = '0'] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || Number(oh) > 23 || Number(om) > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const micros = Number((frac + '000000').slice(0, 6));
  const offsetMinutes = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
  return (ms - offsetMinutes * 60_000) * 1000 + micros;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
