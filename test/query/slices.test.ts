/**
 * The slice driver: a query's work gives the event loop turns while it runs, stops at its
 * deadline with its `finally` blocks run (so its read transaction is released), and runs to
 * the same answer synchronously.
 */
import { expect, test } from 'bun:test';
import { QueryDeadlineError, SLICE_MS, inSlices, toEnd, type Sliced } from '../../src/query/slices.ts';

/** Busy work of about `ms`, pausing every 0.05 ms; `closed` records that its finally ran. */
function* busy(ms: number, state: { closed: boolean }): Sliced<string> {
  try {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const pauseAt = performance.now() + 0.05;
      while (performance.now() < pauseAt) {}
      yield;
    }
    return 'done';
  } finally {
    state.closed = true;
  }
}

test('a long query gives other work turns while it runs, and returns its answer', async () => {
  const state = { closed: false };
  let turns = 0;
  let running = true;
  const other = (async () => {
    while (running) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
    }
  })();
  const answer = await inSlices(busy(20 * SLICE_MS, state), performance.now() + 60_000);
  running = false;
  await other;
  expect(answer).toBe('done');
  expect(turns).toBeGreaterThanOrEqual(5); // ~20 slices; each let the other loop in
  expect(state.closed).toBe(true);
});

test('past its deadline a query is stopped: QueryDeadlineError, its finally blocks run', async () => {
  const state = { closed: false };
  const started = performance.now();
  await expect(inSlices(busy(60_000, state), performance.now() + 20)).rejects.toBeInstanceOf(QueryDeadlineError);
  expect(performance.now() - started).toBeLessThan(30_000); // stopped, not run for its 60 s
  expect(state.closed).toBe(true);
});

test('toEnd runs the same work synchronously', () => {
  const state = { closed: false };
  expect(toEnd(busy(3, state))).toBe('done');
  expect(state.closed).toBe(true);
});
