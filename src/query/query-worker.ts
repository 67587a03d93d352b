/**
 * The query thread's entry point (a worker; see query-thread.ts). It attaches to the store the
 * server opened (its own LMDB handle and read transactions on the same file), then answers the
 * queries handed to it one at a time, each to its end or its deadline: nothing else runs on this
 * thread, so a query needs no slices here.
 */
import { Store } from '../store/store.ts';
import { queryWork } from './requests.ts';
import { QueryDeadlineError, untilDeadline } from './slices.ts';
import type { ToQueryThread } from './query-thread.ts';

declare const self: Worker;

let store: Store | undefined;

self.onmessage = (event: MessageEvent<ToQueryThread>) => {
  const message = event.data;
  switch (message.type) {
    case 'open':
      store = Store.attach(message.dataDir);
      return;
    case 'close':
      void (store?.close() ?? Promise.resolve()).finally(() => self.postMessage({ type: 'closed' }));
      return;
    case 'query': {
      const { id, request, timeoutMs } = message;
      try {
        if (!store) throw new Error('the query thread has no store');
        const value = untilDeadline(queryWork(store, request), performance.now() + timeoutMs);
        self.postMessage({ type: 'answer', id, value });
      } catch (error) {
        self.postMessage({ type: 'failed', id, deadline: error instanceof QueryDeadlineError, message: String((error as Error)?.stack ?? error) });
      }
    }
  }
};
