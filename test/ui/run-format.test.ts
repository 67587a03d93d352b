import { describe, expect, test } from 'bun:test';
import { formatClock } from '../../src/ui/client/format.ts';
import {
  formatDuration,
  isTerminal,
  levelClass,
  levelName,
  orderByStart,
  retriesText,
  runDuration,
  smallParameters,
  stateClass,
} from '../../src/ui/client/run-format.ts';

describe('formatDuration', () => {
  test('milliseconds under a second, cut not rounded', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(0.0004)).toBe('<1 ms');
    expect(formatDuration(0.003732)).toBe('3 ms'); // flaky's total_run_time in the 3.1.4 f2 recording
    expect(formatDuration(0.421739)).toBe('421 ms');
    expect(formatDuration(0.9999)).toBe('999 ms'); // never "1000 ms"
  });

  test('seconds with a tenth under ten, whole seconds under a minute', () => {
    expect(formatDuration(1)).toBe('1.0 s');
    expect(formatDuration(2.56)).toBe('2.5 s');
    expect(formatDuration(9.99)).toBe('9.9 s'); // never "10.0 s"
    expect(formatDuration(42.9)).toBe('42 s');
    expect(formatDuration(59.999)).toBe('59 s');
  });

  test('minutes, hours and days in two units at most', () => {
    expect(formatDuration(60)).toBe('1m');
    expect(formatDuration(185)).toBe('3m 5s');
    expect(formatDuration(3600)).toBe('1h');
    expect(formatDuration(3725)).toBe('1h 2m');
    expect(formatDuration(86_400 * 2 + 3 * 3600 + 59)).toBe('2d 3h');
    expect(formatDuration(86_400)).toBe('1d');
  });

  test('nothing to say: a dash', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(undefined)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Infinity)).toBe('—');
  });
});

describe('runDuration', () => {
  const run = (fields: Partial<Parameters<typeof runDuration>[0]>) => ({ state_type: 'COMPLETED', start_time: null, end_time: null, total_run_time: 0, ...fields });

  test("the run's total_run_time when the server or the client counted it", () => {
    expect(runDuration(run({ total_run_time: 0.42, start_time: '2026-12-06T20:41:14.8Z', end_time: '2026-12-06T20:41:20Z' }))).toBe(0.42);
  });

  test('else from its start to its end', () => {
    expect(runDuration(run({ start_time: '2026-12-06T20:41:14.806250Z', end_time: '2026-12-06T20:41:15.806250Z' }))).toBeCloseTo(1, 6);
  });

  test('to now while it runs (its total so far excludes the current stretch)', () => {
    const now = Date.parse('2026-12-06T20:42:14.5Z');
    expect(runDuration(run({ state_type: 'RUNNING', start_time: '2026-12-06T20:41:14.5Z', total_run_time: 3 }), now)).toBe(60);
  });

  test('null when it has not started, or stopped without an end', () => {
    expect(runDuration(run({ state_type: 'PENDING' }))).toBeNull();
    expect(runDuration(run({ state_type: 'PAUSED', start_time: '2026-12-06T20:41:14Z' }))).toBeNull();
  });
});

describe('orderByStart', () => {
  test('by start, by expected start for runs not started, unknown last, then by name', () => {
    const runs = [
      { name: 'later', start_time: '2026-12-06T20:41:15.2Z', expected_start_time: '2026-12-06T20:41:14Z' },
      { name: 'never', start_time: null, expected_start_time: null },
      { name: 'waiting', start_time: null, expected_start_time: '2026-12-06T20:41:15.1Z' },
      { name: 'first', start_time: '2026-12-06T20:41:14.806250Z', expected_start_time: '2026-12-06T20:41:14.794439Z' },
      { name: 'b-tie', start_time: '2026-12-06T20:41:16Z', expected_start_time: null },
      { name: 'a-tie', start_time: '2026-12-06T20:41:16Z', expected_start_time: null },
    ];
    expect(orderByStart(runs).map((r) => r.name)).toEqual(['first', 'waiting', 'later', 'a-tie', 'b-tie', 'never']);
    expect(runs[0].name).toBe('later'); // a copy: the input keeps its order
  });
});

describe('states, retries, levels', () => {
  test("a state's badge class; an unknown or missing state gets the neutral one", () => {
    expect(stateClass('COMPLETED')).toBe('state-completed');
    expect(stateClass('CANCELLING')).toBe('state-cancelling');
    expect(stateClass('<script>')).toBe('state-none');
    expect(stateClass(null)).toBe('state-none');
    expect(isTerminal('CRASHED')).toBe(true);
    expect(isTerminal('RUNNING')).toBe(false);
    expect(isTerminal(null)).toBe(false);
  });

  test('retries counted from run_count', () => {
    expect(retriesText(0)).toBe('');
    expect(retriesText(1)).toBe('');
    expect(retriesText(2)).toBe('1 retry');
    expect(retriesText(4)).toBe('3 retries');
  });

  test("Python's level names; others as Python names them; colours by the named level at or below", () => {
    expect([10, 20, 30, 40, 50].map(levelName)).toEqual(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']);
    expect(levelName(25)).toBe('Level 25');
    expect(levelClass(25)).toBe('level-info');
    expect(levelClass(40)).toBe('level-error');
    expect(levelClass(60)).toBe('level-critical');
    expect(levelClass(5)).toBe('level-notset');
  });
});

describe('smallParameters', () => {
  test('few short parameters as name = JSON pairs', () => {
    expect(smallParameters({ n: 2, name: 'x', flags: [1, 2], none: null })).toEqual([['n', '2'], ['name', '"x"'], ['flags', '[1,2]'], ['none', 'null']]);
    expect(smallParameters({})).toEqual([]);
    expect(smallParameters(null)).toEqual([]);
  });

  test('many or long ones: null (the page shows the JSON behind a toggle)', () => {
    expect(smallParameters({ text: 'x'.repeat(200) })).toBeNull();
    expect(smallParameters(Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`p${i}`, i])))).toBeNull();
  });
});

describe('formatClock', () => {
  test('the time of day, with milliseconds for log lines; the input when it is not a time', () => {
    const iso = '2026-12-06T20:41:14.723669Z';
    const date = new Date(iso);
    const pad = (n: number) => String(n).padStart(2, '0');
    expect(formatClock(iso)).toContain(`${pad(date.getMinutes())}:${pad(date.getSeconds())}`);
    expect(formatClock(iso, true)).toContain(`${pad(date.getSeconds())}.723`);
    expect(formatClock(iso, true)).not.toMatch(/AM|PM/i); // a 24-hour clock
    expect(formatClock(null)).toBe('—');
    expect(formatClock('soon')).toBe('soon');
  });
});
