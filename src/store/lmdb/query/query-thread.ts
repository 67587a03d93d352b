/**
 * Queries that run long finish on a thread of their own. Every artifact query starts on the
 * server's thread, in slices (slices.ts): most end within the first slice and pay nothing
 * more. One still running after `handOffMs` is closed there and sent, as its request
 * (requests.ts), to the query thread, which runs it again from the start on its own LMDB read
 * transaction and returns the answer. Slices alone keep the server answering, but a long scan
 * still allocates on the server's heap, and its collector pauses and occasional long steps
 * (1–10 ms) land on every request waiting behind a slice; on the query thread they land only on
 * the queries queued there. One thread: the machines this runs on have two cores, one of them
 * for the server's own thread. A query that moves starts over, so moving costs it up to
 * `handOffMs` more: the default (20 ms) keeps the many queries of a few milliseconds (pages
 * through run sets, `like_` pages) where they are, measured at 5 ms to double some of them.
 */
import { HandOff, inSlices, QueryDeadlineError } from './slices.ts';
import { queryWork, type QueryAnswer, type QueryRequest } from './requests.ts';
import type { LmdbStore as Store } from '../store.ts';
import type { ArtifactQueries, QuerySettings } from '../../contract.ts';
import { compiled } from '../../../executable.ts';

/**
 * The thread's entry point. From source, beside this file. In the executable every module is
 * bundled into the entry at the root of its embedded file system, and the worker entry keeps its
 * place below `src/` (scripts/build.ts builds both): `store/lmdb/query/query-worker`. (On Windows
 * the embedded file system is `B:/~BUN/`, not `/$bunfs/`: executable.ts tells both.)
 */
const WORKER_ENTRY = compiled
  ? new URL('./store/lmdb/query/query-worker.ts', import.meta.url)
  : new URL('./query-worker.ts', import.meta.url);

/** Messages to the thread. */
export type ToQueryThread =
  | { type: 'open'; dataDir: string; mapSize: number }
  | { type: 'query'; id: number; request: QueryRequest; timeoutMs: number }
  | { type: 'close' };

/** Messages from the thread. */
type FromQueryThread =
  | { type: 'answer'; id: number; value: QueryAnswer }
  | { type: 'failed'; id: number; deadline: boolean; message: string }
  | { type: 'closed' };

interface Waiting {
  resolve: (value: QueryAnswer) => void;
  reject: (error: Error) => void;
}

export type { QuerySettings } from '../../contract.ts';

/** Runs the artifact queries: in slices here, then on the query thread if they run long. */
export class QueryRunner implements ArtifactQueries {
  private thread?: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  /** Queries sent to the query thread since start (`/metrics`). */
  handedOff = 0;

  constructor(
    private readonly store: Store,
    private readonly dataDir: string,
    private readonly settings: QuerySettings,
  ) {}

  async run(request: QueryRequest): Promise<QueryAnswer> {
    const started = performance.now();
    const deadline = started + this.settings.timeoutMs;
    const handOffAt = this.settings.handOffMs === null ? Infinity : started + this.settings.handOffMs;
    try {
      return await inSlices(queryWork(this.store, request), deadline, handOffAt);
    } catch (error) {
      if (!(error instanceof HandOff)) throw error;
    }
    // What the query built here before it moved is garbage now: a hint, so that it does not
    // wait for the server's next collection (measured: peak RssAnon over the query matrix).
    Bun.gc(false);
    return this.onThread(request, deadline - performance.now());
  }

  /** Runs `request` on the query thread, stopped after `timeoutMs` (QueryDeadlineError). */
  onThread(request: QueryRequest, timeoutMs: number): Promise<QueryAnswer> {
    const thread = this.start();
    const id = this.nextId++;
    this.handedOff++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      thread.postMessage({ type: 'query', id, request, timeoutMs } satisfies ToQueryThread);
    });
  }

  private start(): Worker {
    if (this.thread) return this.thread;
    const thread = new Worker(WORKER_ENTRY);
    // The server's listener keeps the process alive; an idle query thread must not.
    thread.unref();
    thread.onmessage = (event: MessageEvent<FromQueryThread>) => {
      const message = event.data;
      if (message.type === 'closed') return;
      const waiting = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.type === 'answer') waiting?.resolve(message.value);
      else waiting?.reject(message.deadline ? new QueryDeadlineError(message.message) : new Error(`the query thread failed: ${message.message}`));
    };
    thread.onerror = (event) => {
      // The thread is gone: its queries fail (500), and the next hand-off starts a new one.
      this.failAll(new Error(`the query thread stopped: ${event.message}`));
      if (this.thread === thread) this.thread = undefined;
      thread.terminate();
    };
    thread.postMessage({ type: 'open', dataDir: this.dataDir, mapSize: this.store.mapSize } satisfies ToQueryThread);
    this.thread = thread;
    return thread;
  }

  private failAll(error: Error): void {
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }

  /** Closes the thread's store handle and ends the thread (queries still there fail). */
  async close(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    this.thread = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      thread.addEventListener('message', (event: MessageEvent<FromQueryThread>) => {
        if (event.data.type !== 'closed') return;
        clearTimeout(timer);
        resolve();
      });
      thread.postMessage({ type: 'close' } satisfies ToQueryThread);
    });
    thread.terminate();
    this.failAll(new Error('the server is stopping'));
  }
}
