/**
 * The query thread's entry point (a worker; see query-thread.ts). It attaches to the store the
 * server opened (its own LMDB handle and read transactions on the same file), then answers the
 * queries handed to it one at a time, each to its end or its deadline: nothing else runs on this
 * thread, so a query needs no slices here.
 */
import { LmdbStore as Store } from '../store.ts';
import { queryWork } from './requests.ts';
import { QueryDeadlineError, untilDeadline } from './slices.ts';
import type { ToQueryThread } from './query-thread.ts';

declare const self: Worker;

let store: Store | undefined;

/**
 * Collections of this thread's heap: a scan decodes a view per row, and left to itself the
 * collector lets that garbage grow the heap by tens of MiB per query. Measured on a count of
 * 1M artifacts, in process: 1,283 ms and RssAnon 107 MiB without; 1,260 ms and 78 MiB with a
 * collection hint (`Bun.gc(false)`) every 1,024 pauses (~65k rows; now every 256); 2,520 ms and
 * 68 MiB with a full collection there instead. So: hints during a scan, and one full
 * collection (30–40 ms, RssAnon 100 → 50 MiB) after a query long enough that it adds little —
 * after the answer is posted.
 */
const hint = () => Bun.gc(false);
const FULL_COLLECTION_AFTER_MS = 100;

self.onmessage = (event: MessageEvent<ToQueryThread>) => {
  const message = event.data;
  switch (message.type) {
    case 'open':
      store = Store.attach(message.dataDir, message.mapSize);
      return;
    case 'close':
      void (store?.close() ?? Promise.resolve()).finally(() => self.postMessage({ type: 'closed' }));
      return;
    case 'query': {
      const { id, request, timeoutMs } = message;
      const started = performance.now();
      try {
        if (!store) throw new Error('the query thread has no store');
        const value = untilDeadline(queryWork(store, request), started + timeoutMs, hint);
        self.postMessage({ type: 'answer', id, value });
      } catch (error) {
        self.postMessage({ type: 'failed', id, deadline: error instanceof QueryDeadlineError, message: String((error as Error)?.stack ?? error) });
      }
      Bun.gc(performance.now() - started >= FULL_COLLECTION_AFTER_MS);
    }
  }
};
