/** mergeSorted: sorted sources read as one sorted stream, lazily, every source closed when the reader stops. */
import { expect, test } from 'bun:test';
import { mergeSorted } from '../../../../src/store/lmdb/query/merge.ts';
import { seededRandom, testSeed } from '../../seeded.ts';

const ascending = (a: number, b: number) => a < b;

test('random sorted sources merge into their sorted union, duplicates kept', () => {
  const seed = testSeed();
  const r = seededRandom(seed);
  for (let round = 0; round < 200; round++) {
    const sources = Array.from({ length: r.int(12) }, () => Array.from({ length: r.int(20) }, () => r.int(50)).sort((a, b) => a - b));
    const merged = [...mergeSorted(sources, ascending)];
    expect(merged, `seed ${seed}`).toEqual(sources.flat().sort((a, b) => a - b));
  }
});

test('reads each source only as far as the reader goes, and closes them all when it stops', () => {
  const read: number[] = [];
  const closed: number[] = [];
  function* source(n: number, values: number[]) {
    try {
      for (const v of values) {
        read.push(n);
        yield v;
      }
    } finally {
      closed.push(n);
    }
  }
  const merged = mergeSorted([source(0, [1, 4, 7, 10]), source(1, [2, 5, 8]), source(2, [3, 6, 9])], ascending);
  const firstFour: number[] = [];
  for (const v of merged) {
    firstFour.push(v);
    if (firstFour.length === 4) break;
  }
  expect(firstFour).toEqual([1, 2, 3, 4]);
  // The three heads, then the next of the sources the reader took from.
  expect(read.length).toBeLessThanOrEqual(6);
  expect(closed.sort()).toEqual([0, 1, 2]);
});

test('a descending order is a reversed comparison', () => {
  expect([...mergeSorted([[9, 5, 1], [8, 2], []], (a, b) => a > b)]).toEqual([9, 8, 5, 2, 1]);
});
