import { expect, test } from 'bun:test';
import { Top } from '../../../../src/store/lmdb/query/top.ts';

test('keeps the first k of an order, equal to sorting everything, for random inputs and ties', () => {
  let seed = 11;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const order = (a: { v: number; id: number }, b: { v: number; id: number }) => a.v - b.v || b.id - a.id;
  for (let round = 0; round < 300; round++) {
    const items = Array.from({ length: rand(200) }, (_, id) => ({ v: rand(20), id }));
    const k = rand(40);
    const top = new Top(k, order);
    for (const item of items) top.push(item);
    expect(top.sorted()).toEqual([...items].sort(order).slice(0, k));
  }
});

test('k of zero keeps nothing', () => {
  const top = new Top<number>(0, (a, b) => a - b);
  top.push(1);
  expect(top.sorted()).toEqual([]);
});
