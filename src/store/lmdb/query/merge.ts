/**
 * Several sorted index ranges read as one sorted stream: a flow run's logs and another's, an
 * event's resource ids' entries. Each range is already in the wanted order, so a binary heap of
 * their heads yields the next row in O(log k) and reads each range only as far as the consumer
 * goes: a page of 200 opens every range but reads about 200 entries in all, however long the
 * ranges are.
 */

/** `first(a, b)`: true when `a` comes before `b`. */
export function* mergeSorted<T>(sources: readonly Iterable<T>[], first: (a: T, b: T) => boolean): Generator<T, void, undefined> {
  if (sources.length === 1) {
    yield* sources[0];
    return;
  }
  const heads: { value: T; rest: Iterator<T> }[] = [];
  try {
    for (const source of sources) {
      const rest = source[Symbol.iterator]();
      const step = rest.next();
      if (step.done) continue;
      heads.push({ value: step.value, rest });
      siftUp(heads, heads.length - 1, first);
    }
    while (heads.length > 0) {
      const top = heads[0];
      yield top.value;
      const step = top.rest.next();
      if (step.done) {
        const last = heads.pop()!;
        if (heads.length === 0) break;
        heads[0] = last;
      } else {
        top.value = step.value;
      }
      siftDown(heads, 0, first);
    }
  } finally {
    // A consumer that stops early (a full page) closes every range's cursor.
    for (const head of heads) head.rest.return?.();
  }
}

type Heap<T> = { value: T }[];

function siftUp<T>(heap: Heap<T>, i: number, first: (a: T, b: T) => boolean): void {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!first(heap[i].value, heap[parent].value)) return;
    [heap[i], heap[parent]] = [heap[parent], heap[i]];
    i = parent;
  }
}

function siftDown<T>(heap: Heap<T>, i: number, first: (a: T, b: T) => boolean): void {
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let best = i;
    if (left < heap.length && first(heap[left].value, heap[best].value)) best = left;
    if (right < heap.length && first(heap[right].value, heap[best].value)) best = right;
    if (best === i) return;
    [heap[i], heap[best]] = [heap[best], heap[i]];
    i = best;
  }
}
