/**
 * Long queries run in slices, so that no request waits behind another. A query's scan is a
 * generator that reaches a pause point every few dozen rows (`yield`); the server drives it with
 * `inSlices`, which gives the event loop a turn whenever a slice has run for `SLICE_MS`, and
 * stops it at its deadline. Commands and tests drive the same generator to its end at once with
 * `toEnd`. A pause point costs a counter check and a clock read; a turn costs a `setImmediate`
 * (~10 µs) and whatever else the loop has to do, so a query shorter than SLICE_MS pays nothing
 * and a long one a few percent (measured: within run-to-run noise for a 150 ms count at 0.1 ms
 * slices): the price of a server that keeps answering while it runs. A query still running
 * after `--query-thread-after` (20 ms) moves to the query thread (query-thread.ts), whose
 * garbage and occasional long steps then no longer delay the server's other requests.
 *
 * Every read of one query goes through one LMDB read transaction (`snapshot`): across turns the
 * store may commit writes, and a page must still come from one consistent state, as a SQL
 * statement does.
 */
import type { Database, Transaction } from 'lmdb';

/** A query's work: pauses (`yield`) now and then, returns its answer. */
export type Sliced<T> = Generator<void, T, void>;

/** Rows between pause points. */
export const ROWS_PER_PAUSE = 64;

/** How long a slice may hold the event loop before the next turn. */
export const SLICE_MS = 0.1;

import { QueryDeadlineError } from '../../errors.ts';

export { QueryDeadlineError };

/** Thrown by `inSlices` when a query runs past its hand-off time: it goes to the query thread. */
export class HandOff extends Error {}

/** Runs `work` to its end synchronously (commands, tests, and queries known to be short). */
export function toEnd<T>(work: Sliced<T>): T {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
  }
}

/**
 * Runs `work` to its end synchronously unless `deadlineMs` (a `performance.now()` time) passes
 * first; then it is closed and QueryDeadlineError is thrown. The query thread's driver: nothing
 * else runs on that thread, so it needs no turns.
 */
export function untilDeadline<T>(work: Sliced<T>, deadlineMs: number, everyFewHundredPauses?: () => void): T {
  try {
    for (let steps = 1; ; steps++) {
      const step = work.next();
      if (step.done) return step.value;
      // A clock read every few pauses: a pause point is a few dozen rows apart.
      if (steps % 8 === 0 && performance.now() > deadlineMs) throw new QueryDeadlineError('query deadline passed');
      if (steps % 256 === 0) everyFewHundredPauses?.();
    }
  } finally {
    work.return(undefined as never);
  }
}

/**
 * Turns are handed out one per event-loop iteration, to one waiting query at a time in arrival
 * order: however many long queries run, the loop polls for new requests after at most one
 * slice, instead of after one slice of each (as when every query scheduled its own
 * `setImmediate`, which all run in the same iteration).
 */
const waiting: (() => void)[] = [];
let handing = false;

function handOut(): void {
  const next = waiting.shift();
  if (waiting.length === 0) handing = false;
  else setImmediate(handOut);
  next?.();
}

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    waiting.push(resolve);
    if (!handing) {
      handing = true;
      setImmediate(handOut);
    }
  });
}

/**
 * Runs `work` in slices of about SLICE_MS, letting other requests in between, until it ends or
 * `deadlineMs` (a `performance.now()` time) passes; then it is closed (its `finally` blocks run,
 * releasing its read transaction) and QueryDeadlineError is thrown. Past `handOffMs`, it is
 * closed the same way and HandOff is thrown, for the caller to run it elsewhere.
 */
export async function inSlices<T>(work: Sliced<T>, deadlineMs: number, handOffMs = Infinity): Promise<T> {
  let sliceStart = performance.now();
  try {
    for (;;) {
      const step = work.next();
      if (step.done) return step.value;
      const now = performance.now();
      if (now - sliceStart < SLICE_MS) continue;
      if (now > deadlineMs) throw new QueryDeadlineError('query deadline passed');
      if (now > handOffMs) throw new HandOff('query handed off');
      await nextTurn();
      sliceStart = performance.now();
    }
  } finally {
    work.return(undefined as never);
  }
}

/** Read options that pin a read to the query's transaction. */
export interface At {
  transaction?: Transaction;
}

/**
 * Runs `body` with one read transaction of `env`, released when it ends however it ends
 * (finished, failed, or closed at its deadline).
 */
export function* snapshot<T>(env: Database<any, any>, body: (at: At) => Sliced<T>): Sliced<T> {
  const transaction = env.useReadTransaction();
  try {
    // Frozen: lmdb-js writes into some options objects it is given (getKeys sets `values`), and
    // one shared `at` must stay as it is; spread it into range options instead.
    return yield* body(Object.freeze({ transaction }));
  } finally {
    transaction.done();
  }
}

/**
 * A whole query of its own: `body` in one read transaction, in slices on the server's thread,
 * stopped with QueryDeadlineError after `timeoutMs`. What the log and event queries use: they
 * have no query thread to move to, their pages being short index walks in the common case.
 */
export function slicedQuery<T>(env: Database<any, any>, timeoutMs: number, body: (at: At) => Sliced<T>): Promise<T> {
  return inSlices(snapshot(env, body), performance.now() + timeoutMs);
}
