/**
 * The first `k` items of an order among many, kept as they arrive: a page of a long candidate
 * list needs only `offset + limit` of them sorted, and sorting every candidate at the end would
 * hold the event loop for as long as the sort takes (a 500k-id list: ~200 ms in one piece).
 * A binary heap whose root is the worst item kept: each arrival costs O(log k), and most are
 * turned away by one comparison with the root.
 */
export class Top<T> {
  private readonly heap: T[] = [];

  /** `order` as for `Array.prototype.sort`: negative when `a` comes first. */
  constructor(
    private readonly k: number,
    private readonly order: (a: T, b: T) => number,
  ) {}

  push(item: T): void {
    const { heap, k, order } = this;
    if (k <= 0) return;
    if (heap.length < k) {
      heap.push(item);
      this.up(heap.length - 1);
    } else if (order(item, heap[0]) < 0) {
      heap[0] = item;
      this.down(0);
    }
  }

  /** The items kept, in order. */
  sorted(): T[] {
    return [...this.heap].sort(this.order);
  }

  // The root is the item that comes last in `order` (a max-heap under it).
  private up(i: number): void {
    const { heap, order } = this;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (order(heap[i], heap[parent]) <= 0) return;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private down(i: number): void {
    const { heap, order } = this;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let last = i;
      if (left < heap.length && order(heap[left], heap[last]) > 0) last = left;
      if (right < heap.length && order(heap[right], heap[last]) > 0) last = right;
      if (last === i) return;
      [heap[i], heap[last]] = [heap[last], heap[i]];
      i = last;
    }
  }
}
