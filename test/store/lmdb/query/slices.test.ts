/**
 * The slice driver: a query's work gives the event loop turns while it runs, stops at its
 * deadline with its `finally` blocks run (so its read transaction is released), and runs to
 * the same answer synchronously.
 */
import { expect, test } from 'bun:test';
import { QueryDeadlineError, SLICE_MS, inSlices, toEnd, type Sliced } from '../../../../src/store/lmdb/query/slices.ts';

/**
 * Busy work in `pauses` stretches, each spinning past SLICE_MS before its pause point (so every
 * pause ends a slice, however fast or loaded the machine); `closed` records that its finally ran.
 */
function* busy(pauses: number, state: { closed: boolean }): Sliced<string> {
  try {
    for (let i = 0; i < pauses; i++) {
      const until = performance.now() + 2 * SLICE_MS;
      while (performance.now() < until) {}
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
  const answer = await inSlices(busy(20, state), performance.now() + 60_000);
  running = false;
  await other;
  expect(answer).toBe('done');
  expect(turns).toBeGreaterThanOrEqual(10); // 20 slices, each followed by a turn of the loop
  expect(state.closed).toBe(true);
});

test('past its deadline a query is stopped: QueryDeadlineError, its finally blocks run', async () => {
  const state = { closed: false };
  const started = performance.now();
  // 10 million pauses would take over an hour; the deadline stops it after ~20 ms.
  await expect(inSlices(busy(10_000_000, state), performance.now() + 20)).rejects.toBeInstanceOf(QueryDeadlineError);
  expect(performance.now() - started).toBeLessThan(30_000);
  expect(state.closed).toBe(true);
});

test('toEnd runs the same work synchronously', () => {
  const state = { closed: false };
  expect(toEnd(busy(5, state))).toBe('done');
  expect(state.closed).toBe(true);
});
