/**
 * Timestamps are integers of microseconds since the Unix epoch: Prefect prints microsecond
 * precision, and 1.8e15 µs is still far below 2^53, so a plain number holds them exactly.
 */

let lastIssued = 0;

/**
 * The current time in µs, strictly increasing within this process so that two writes never
 * share a timestamp (versions of a key are ordered by `created`).
 */
export function nowMicros(): number {
  const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  lastIssued = now > lastIssued ? now : lastIssued + 1;
  return lastIssued;
}

/** Formats µs as Prefect does: ISO-8601 UTC, `Z`, six fraction digits unless they are all zero. */
export function formatMicros(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  // Rows read together (a page sorted by time) mostly share their second: its text is kept.
  if (seconds !== lastSeconds) {
    lastSeconds = seconds;
    lastBase = new Date(seconds * 1000).toISOString().slice(0, 19);
  }
  return fraction === 0 ? `${lastBase}Z` : `${lastBase}.${String(fraction).padStart(6, '0')}Z`;
}

let lastSeconds = NaN;
let lastBase = '';
