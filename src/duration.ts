/**
 * Ages for retention (`--older-than 90d`, `--retention 90d`): a whole number and one unit —
 * s, m, h, d or w. One parser for the CLI and the server, so both read a duration the same way.
 */

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Far beyond any real retention, and small enough that µs arithmetic stays exact. */
const MAX_MS = 100 * 365 * 86_400_000;

export class DurationError extends Error {}

/** Milliseconds of `text` such as `90d`, `12h`, `30m`, `45s` or `2w`; throws DurationError. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/i.exec(text);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2].toLowerCase()] : NaN;
  if (!m || !(ms > 0)) {
    throw new DurationError(`invalid duration "${text}": expected a positive number and a unit, e.g. 90d, 12h, 30m, 45s or 2w`);
  }
  // Well-formed but huge: say so, rather than claim the number is not positive.
  if (ms > MAX_MS) throw new DurationError(`invalid duration "${text}": longer than 100 years (5214w)`);
  return ms;
}
