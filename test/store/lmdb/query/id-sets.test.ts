/**
 * The lazy sets a query builds as it goes: a set probed more than building it costs is built
 * between slices, and a set found by a scan answers `has` per id until then.
 */
import { expect, test } from 'bun:test';
import { buildingWhenProbed, builtForProbes, probed, ProbedSet, Tested, type IdSet } from '../../../../src/store/lmdb/query/id-sets.ts';
import { toEnd, type Sliced } from '../../../../src/store/lmdb/query/slices.ts';

/** A lazy set over `ids` that counts its probes and iterations. */
function lazy(ids: string[]): IdSet & { probes: number; iterations: number } {
  const set = new Set(ids);
  return {
    probes: 0,
    iterations: 0,
    get size() {
      return set.size;
    },
    has(id: string) {
      this.probes++;
      return set.has(id);
    },
    *[Symbol.iterator]() {
      this.iterations++;
      yield* set;
    },
  };
}

/** Work that probes `set` for each of `ids`, pausing every 10 probes; returns the hits. */
function* probing(set: IdSet, ids: string[]): Sliced<string[]> {
  const hits: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (i % 10 === 9) yield;
    if (set.has(ids[i])) hits.push(ids[i]);
  }
  return hits;
}

const ids = (n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test('a lazy set probed more often than it holds ids is built between slices, and answers the same', () => {
  const inner = lazy(ids(50));
  const wrapped = probed(inner) as ProbedSet;
  const asked = [...ids(100), ...ids(100, 'x'), ...ids(100)];
  const hits = toEnd(buildingWhenProbed(probing(wrapped, asked), [wrapped]));
  expect(hits).toEqual(asked.filter((id) => id.startsWith('r') && Number(id.slice(1)) < 50));
  expect(inner.iterations).toBe(1);
  // Probes reached the lazy set only until it was built: just past its size, then a Set answered.
  expect(inner.probes).toBeGreaterThan(50);
  expect(inner.probes).toBeLessThanOrEqual(60);
});

test('a set probed less than it holds is never built; Sets are not wrapped', () => {
  const inner = lazy(ids(500));
  const wrapped = probed(inner);
  toEnd(buildingWhenProbed(probing(wrapped, ids(100)), [wrapped]));
  expect([inner.iterations, inner.probes]).toEqual([0, 100]);
  const plain = new Set(['a']);
  expect(probed(plain)).toBe(plain);
});

test('closing the work (a deadline) closes the inner work too', () => {
  let closed = false;
  function* inner(): Sliced<number> {
    try {
      for (;;) yield;
    } finally {
      closed = true;
    }
  }
  const work = buildingWhenProbed(inner(), []);
  work.next();
  work.return(undefined as never);
  expect(closed).toBe(true);
});

test('builtForProbes builds only when the probes outnumber the ids', () => {
  const few = lazy(ids(10));
  expect(toEnd(builtForProbes(few, 5))).toBe(few);
  const built = toEnd(builtForProbes(few, 100));
  expect(built).toBeInstanceOf(Set);
  expect([...built].sort()).toEqual(ids(10).sort());
});

test('a Tested set tests each id once until found, then answers from the scan', () => {
  const tested: string[] = [];
  let scans = 0;
  const set = new Tested(
    (id) => {
      tested.push(id);
      return id.endsWith('7');
    },
    function* () {
      scans++;
      yield;
      return new Set(['r7', 'r17']);
    },
    () => 1000,
  );
  expect(set.size).toBe(1000); // unknown until found: the table's size, an upper bound
  expect([set.has('r7'), set.has('r8'), set.has('r7')]).toEqual([true, false, true]);
  expect(tested).toEqual(['r7', 'r8']);
  expect([...set].sort()).toEqual(['r17', 'r7']);
  expect([set.size, scans, set.has('r17'), tested.length]).toEqual([2, 1, true, 2]);
});
