/**
 * The one writer of incoming events: every websocket and `POST /api/events` hands its validated
 * events here, and they reach the store in batches — one `store.events.append` at a time, each
 * taking whatever arrived meanwhile (up to a batch's size), so a busy server commits many events
 * per durable transaction and an idle one commits each event on the next turn of the event loop.
 * Events of one connection keep their order.
 *
 * Bounded: past HIGH_WATER events (or bytes) not yet durable, `saturated` turns true and the
 * sockets stop reading (events-in.ts), so clients feel TCP backpressure instead of the server
 * buffering without end; below half of it they read again.
 *
 * Failures: a store that is unavailable (or a query past its deadline) is tried again with
 * backoff, for up to RETRY_FOR_MS; anything else (a refused write) is retried event by event, an
 * event whose task-run observation is refused being written without it — so one bad event never
 * costs its batch neighbours. What still cannot be written is logged and counted as lost.
 */
import type { Logger } from '../observe/log.ts';
import type { IntakeCounters } from '../observe/metrics.ts';
import type { EventRecord } from '../store/event-records.ts';
import type { TaskRunObservation } from '../store/contract.ts';
import { QueryDeadlineError, StoreUnavailableError } from '../store/errors.ts';
import type { ReceivedEvent } from './receive.ts';

export type AppendEvents = (events: readonly EventRecord[], taskRuns: readonly TaskRunObservation[]) => Promise<void>;

export interface IntakeLimits {
  /** Most events in one append. */
  batchEvents: number;
  /** Most bytes of event JSON in one append (a batch always takes at least one event). */
  batchBytes: number;
  /** Pending events (or bytes) past which the sockets pause. */
  highWaterEvents: number;
  highWaterBytes: number;
  /** How long an unavailable store is retried before a batch counts as lost. */
  retryForMs: number;
}

export const DEFAULT_INTAKE_LIMITS: IntakeLimits = {
  batchEvents: 1000,
  batchBytes: 8 * 1024 * 1024,
  highWaterEvents: 20_000,
  highWaterBytes: 64 * 1024 * 1024,
  retryForMs: 60_000,
};

/** A caller waiting for its events to be durable (`POST /api/events`). */
interface Waiter {
  remaining: number;
  failed: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

interface Entry {
  event: ReceivedEvent;
  bytes: number;
  waiter: Waiter | null;
}

const transient = (error: unknown) => error instanceof StoreUnavailableError || error instanceof QueryDeadlineError;

export class EventIntake {
  private queue: Entry[] = [];
  private head = 0;
  private pendingBytes = 0;
  private draining: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;
  private wasSaturated = false;
  /** Called when `saturated` changes (the sockets pause or resume). */
  onPressure: (saturated: boolean) => void = () => {};

  constructor(
    private readonly append: AppendEvents,
    private readonly logger: Logger,
    private readonly counters: IntakeCounters,
    private readonly limits: IntakeLimits = DEFAULT_INTAKE_LIMITS,
  ) {}

  /** Events accepted and not yet durable. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  get saturated(): boolean {
    return this.pending >= this.limits.highWaterEvents || this.pendingBytes >= this.limits.highWaterBytes;
  }

  /** Queues events; nothing to wait for (the websocket: its client checkpoints with pings). */
  push(events: readonly ReceivedEvent[]): void {
    this.enqueue(events, null);
  }

  /** Queues events and resolves once they are durable; rejects when they could not be written. */
  submit(events: readonly ReceivedEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.enqueue(events, { remaining: events.length, failed: false, resolve, reject }));
  }

  /** Writes what is queued and refuses more (the server is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.draining || this.pending > 0) await (this.draining ?? this.drain());
  }

  private enqueue(events: readonly ReceivedEvent[], waiter: Waiter | null): void {
    if (this.closed) throw new StoreUnavailableError('the server is stopping: events are no longer taken');
    for (const event of events) {
      const bytes = event.record.json.length;
      this.queue.push({ event, bytes, waiter });
      this.pendingBytes += bytes;
    }
    this.counters.eventsReceived += events.length;
    this.notePressure();
    if (!this.draining && !this.scheduled) {
      this.scheduled = true;
      // The next turn, so that the frames of one read (and of other sockets) share the batch.
      setImmediate(() => {
        this.scheduled = false;
        if (!this.draining) void this.drain();
      });
    }
  }

  private notePressure(): void {
    const saturated = this.saturated;
    const resumed = !saturated && this.pending <= this.limits.highWaterEvents / 2 && this.pendingBytes <= this.limits.highWaterBytes / 2;
    if (saturated && !this.wasSaturated) {
      this.wasSaturated = true;
      this.onPressure(true);
    } else if (this.wasSaturated && resumed) {
      this.wasSaturated = false;
      this.onPressure(false);
    }
  }

  private drain(): Promise<void> {
    this.draining = (async () => {
      try {
        while (this.pending > 0) await this.writeBatch(this.nextBatch());
      } finally {
        this.draining = null;
      }
    })();
    return this.draining;
  }

  private nextBatch(): Entry[] {
    const batch: Entry[] = [];
    let bytes = 0;
    for (let i = this.head; i < this.queue.length && batch.length < this.limits.batchEvents; i++) {
      const entry = this.queue[i];
      if (batch.length > 0 && bytes + entry.bytes > this.limits.batchBytes) break;
      batch.push(entry);
      bytes += entry.bytes;
    }
    return batch;
  }

  /** Writes `batch` (the queue's head), then takes it off the queue however it ended. */
  private async writeBatch(batch: Entry[]): Promise<void> {
    const started = Date.now();
    let delay = 50;
    for (;;) {
      try {
        await this.write(batch);
        this.settle(batch, null);
        break;
      } catch (error) {
        if (transient(error) && !this.closed && Date.now() - started < this.limits.retryForMs) {
          this.logger.warning(`artifactd: events not yet written (${batch.length}), retrying: ${(error as Error).message}`);
          await Bun.sleep(delay);
          delay = Math.min(delay * 2, 5000);
          continue;
        }
        if (transient(error) || batch.length === 1) {
          this.settle(batch, await this.writeAlone(batch[0], error, batch.length));
        } else {
          // A refusal names no culprit: one event at a time, so the others still go in.
          for (const entry of batch) {
            try {
              await this.write([entry]);
              this.settle([entry], null);
            } catch (alone) {
              this.settle([entry], await this.writeAlone(entry, alone, 1));
            }
          }
        }
        break;
      }
    }
    this.dequeue(batch);
  }

  /**
   * The last attempts for one event: without its task-run observation if it has one (the store
   * refused the run, not the event); the error when even that fails, and for a batch that the
   * store never took (`count` > 1), the whole batch counts as lost.
   */
  private async writeAlone(entry: Entry, cause: unknown, count: number): Promise<unknown> {
    if (count === 1 && !transient(cause)) {
      if (entry.event.observation !== null) {
        try {
          await this.append([entry.event.record], []);
          this.logger.warning(`artifactd: event ${entry.event.record.id} stored without its task-run update, which the store refused: ${(cause as Error).message}`);
          return null;
        } catch (error) {
          cause = error;
        }
      }
    }
    this.counters.eventsLost += count;
    this.logger.error(`artifactd: ${count} event${count === 1 ? '' : 's'} lost, the store did not take ${count === 1 ? 'it' : 'them'}: ${(cause as Error)?.message ?? cause}`);
    return cause;
  }

  private write(batch: readonly Entry[]): Promise<void> {
    // A client resending after a reconnect may repeat an id within one batch: the first stays.
    const seen = new Set<string>();
    const records: EventRecord[] = [];
    const observations: TaskRunObservation[] = [];
    for (const { event } of batch) {
      if (seen.has(event.record.id)) continue;
      seen.add(event.record.id);
      records.push(event.record);
      if (event.observation !== null) observations.push(event.observation);
    }
    return this.append(records, observations);
  }

  private settle(entries: readonly Entry[], error: unknown): void {
    for (const { waiter } of entries) {
      if (waiter === null || waiter.failed) continue;
      if (error !== null) {
        waiter.failed = true;
        waiter.reject(error);
      } else if (--waiter.remaining === 0) {
        waiter.resolve();
      }
    }
  }

  private dequeue(batch: readonly Entry[]): void {
    for (const entry of batch) this.pendingBytes -= entry.bytes;
    this.head += batch.length;
    // Drop the written prefix now and then, not on every batch (a shift per batch is quadratic).
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.notePressure();
  }
}
