/**
 * Runs and log lines as the flow-run page shows them: durations, the order of task runs, log
 * levels and their names, small parameters. Pure functions (no DOM), unit-tested on their own
 * (test/ui/run-format.test.ts).
 */

/** States a run does not leave by itself (Prefect's terminal states). */
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CRASHED', 'CANCELLED']);

export const isTerminal = (type: string | null | undefined) => type !== null && type !== undefined && TERMINAL.has(type);

/** The state types Prefect's UI colours; anything else is shown in the neutral badge. */
const STATE_TYPES = new Set(['COMPLETED', 'FAILED', 'CRASHED', 'CANCELLED', 'CANCELLING', 'RUNNING', 'PENDING', 'SCHEDULED', 'PAUSED']);

/** The CSS class of a state badge: `state-completed`, `state-failed`, …; `state-none` for anything else. */
export function stateClass(type: string | null | undefined): string {
  return type && STATE_TYPES.has(type) ? `state-${type.toLowerCase()}` : 'state-none';
}

/**
 * A duration in seconds as a person reads it: "0 ms", "4 ms", "2.5 s", "42 s", "3m 5s",
 * "1h 2m", "2d 3h". Digits are cut, not rounded, so a value never reads as the next unit.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 1) {
    const ms = Math.floor(seconds * 1000);
    return seconds > 0 && ms === 0 ? '<1 ms' : `${ms} ms`;
  }
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toFixed(1)} s`;
  const whole = Math.floor(seconds);
  if (whole < 60) return `${whole} s`;
  const [d, h, m, s] = [Math.floor(whole / 86_400), Math.floor(whole / 3600) % 24, Math.floor(whole / 60) % 60, whole % 60];
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  return s > 0 ? `${m}m ${s}s` : `${m}m`;
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);

export interface Timed {
  state_type: string | null;
  start_time: string | null;
  end_time: string | null;
  total_run_time: number;
}

/**
 * How long a run ran, in seconds, or null when it has not started: its `total_run_time` (the
 * time spent RUNNING, as the server or the client counted it) when known, else from its start
 * to its end, or to `now` while it runs.
 */
export function runDuration(run: Timed, now = Date.now()): number | null {
  if (run.total_run_time > 0 && !(run.state_type === 'RUNNING' && run.end_time === null)) return run.total_run_time;
  const start = ms(run.start_time);
  if (Number.isNaN(start)) return null;
  const end = ms(run.end_time);
  if (!Number.isNaN(end)) return Math.max(0, (end - start) / 1000);
  return run.state_type === 'RUNNING' ? Math.max(0, (now - start) / 1000) : null;
}

export interface Scheduled {
  name: string;
  start_time: string | null;
  expected_start_time: string | null;
}

/** When a run started, or was expected to start when it has not; NaN when neither is known. */
export const startOf = (run: Scheduled) => (run.start_time ? ms(run.start_time) : ms(run.expected_start_time));

/** Task runs in the order they started (expected start for those not started), unknown last; by name on ties. */
export function orderByStart<T extends Scheduled>(runs: readonly T[]): T[] {
  const key = (run: T) => {
    const t = startOf(run);
    return Number.isNaN(t) ? Infinity : t;
  };
  return [...runs].sort((a, b) => key(a) - key(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** "1 retry", "2 retries", or '' for a run that ran once (or not at all). */
export function retriesText(runCount: number): string {
  const retries = runCount - 1;
  return retries <= 0 ? '' : `${retries} ${retries === 1 ? 'retry' : 'retries'}`;
}

// ── Log levels ─────────────────────────────────────────────────────────────────────────────

/** Python's logging levels, highest first. */
export const LEVELS: readonly [number, string][] = [
  [50, 'CRITICAL'],
  [40, 'ERROR'],
  [30, 'WARNING'],
  [20, 'INFO'],
  [10, 'DEBUG'],
];

/** A level's name, as Python's logging names it: "INFO", or "Level 25" for one between. */
export function levelName(level: number): string {
  return LEVELS.find(([n]) => n === level)?.[1] ?? `Level ${level}`;
}

/** The colour class of a level: that of the named level at or below it (`level-info`, …). */
export function levelClass(level: number): string {
  const named = LEVELS.find(([n]) => level >= n);
  return named ? `level-${named[1].toLowerCase()}` : 'level-notset';
}

// ── Parameters ─────────────────────────────────────────────────────────────────────────────

/**
 * A flow run's parameters as `name = value` pairs (values as JSON), when they are few and
 * short enough to read in one line (`max` characters in all); null otherwise (the page then
 * offers the whole JSON behind a toggle).
 */
export function smallParameters(parameters: Record<string, unknown> | null | undefined, max = 160): [string, string][] | null {
  const entries = Object.entries(parameters ?? {}).map(([name, value]): [string, string] => [name, JSON.stringify(value) ?? 'null']);
  const length = entries.reduce((sum, [name, value]) => sum + name.length + value.length + 3, 0);
  return entries.length <= 6 && length <= max ? entries : null;
}
