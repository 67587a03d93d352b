/**
 * events/intake.ts with a stand-in store: events reach `append` in order, in batches of at most
 * the batch size, one append at a time; `submit` resolves once its events are written; the
 * sockets are told to pause past the high-water mark and to resume below half of it; a store
 * that is down for a moment is retried, one that refuses a batch gets its events one by one (an
 * event whose task-run update is refused is written without it); what cannot be written is
 * counted as lost; `close` writes what is queued and refuses more.
 */
import { describe, expect, test } from 'bun:test';
import { DEFAULT_INTAKE_LIMITS, EventIntake, type IntakeLimits } from '../../src/events/intake.ts';
import { receiveEvent, type ReceivedEvent } from '../../src/events/receive.ts';
import { silentLogger } from '../../src/observe/log.ts';
import { IntakeCounters } from '../../src/observe/metrics.ts';
import type { EventRecord } from '../../src/store/event-records.ts';
import type { TaskRunObservation } from '../../src/store/contract.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { Refusal } from '../../src/store/refusal.ts';
import { COMPLETED, plainEvent, taskRunEvent } from './event-builders.ts';

function received(value: unknown): ReceivedEvent {
  const receipt = receiveEvent(value, [], Date.now() * 1000);
  if (!receipt.ok) throw new Error(JSON.stringify(receipt.issues));
  return receipt.event;
}

const events = (n: number) => Array.from({ length: n }, () => received(plainEvent(1)));

/** A stand-in `append`: records each call; `fail` decides per call whether (and how) it throws. */
function standIn(fail: (records: readonly EventRecord[], runs: readonly TaskRunObservation[], call: number) => unknown = () => null) {
  const calls: { records: string[]; runs: string[] }[] = [];
  const written: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const append = async (records: readonly EventRecord[], runs: readonly TaskRunObservation[]) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    calls.push({ records: records.map((r) => r.id), runs: runs.map((r) => r.id) });
    await Bun.sleep(1);
    inFlight--;
    const error = fail(records, runs, calls.length);
    if (error) throw error;
    written.push(...records.map((r) => r.id));
  };
  return { append, calls, written, maxInFlight: () => maxInFlight };
}

function intake(store: ReturnType<typeof standIn>, limits: Partial<IntakeLimits> = {}) {
  const counters = new IntakeCounters();
  const warnings: string[] = [];
  const logger = { ...silentLogger, warning: (m: string) => void warnings.push(m), error: (m: string) => void warnings.push(m) };
  return { intake: new EventIntake(store.append, logger, counters, { ...DEFAULT_INTAKE_LIMITS, ...limits }), counters, warnings };
}

describe('EventIntake', () => {
  test('events pushed in one turn share appends of at most a batch each, in order, one append at a time', async () => {
    const store = standIn();
    const { intake: i, counters } = intake(store, { batchEvents: 100 });
    const sent = events(350);
    for (const e of sent) i.push([e]);
    expect(i.pending).toBe(350);
    await i.close();
    expect(store.written).toEqual(sent.map((e) => e.record.id));
    expect(store.calls.map((c) => c.records.length)).toEqual([100, 100, 100, 50]);
    expect(store.maxInFlight()).toBe(1);
    expect(counters.eventsReceived).toBe(350);
    expect(i.pending).toBe(0);
  });

  test('a batch is also bounded in bytes (at least one event each)', async () => {
    const store = standIn();
    const sent = events(10);
    const { intake: i } = intake(store, { batchBytes: sent[0].record.json.length * 3 + 1 });
    i.push(sent);
    await i.close();
    expect(store.calls.map((c) => c.records.length)).toEqual([3, 3, 3, 1]);
  });

  test('submit resolves once its events are written; task-run observations go with their events', async () => {
    const store = standIn();
    const { intake: i } = intake(store);
    const task = crypto.randomUUID();
    const batch = [received(taskRunEvent(task, crypto.randomUUID(), COMPLETED, Date.now())), ...events(2)];
    await i.submit(batch);
    expect(store.written).toEqual(batch.map((e) => e.record.id));
    expect(store.calls[0].runs).toEqual([task]);
  });

  test('an id twice in one batch is written once (a client resending after a reconnect)', async () => {
    const store = standIn();
    const { intake: i } = intake(store);
    const [e] = events(1);
    i.push([e, e]);
    await i.submit(events(1));
    expect(store.calls[0].records.filter((id) => id === e.record.id)).toHaveLength(1);
  });

  test('a store down for a moment: the batch is retried until it is written', async () => {
    const store = standIn((_, __, call) => (call <= 2 ? new StoreUnavailableError('database down') : null));
    const { intake: i, counters, warnings } = intake(store);
    const sent = events(5);
    await i.submit(sent);
    expect(store.written).toEqual(sent.map((e) => e.record.id));
    expect(counters.eventsLost).toBe(0);
    expect(warnings.filter((w) => w.includes('retrying'))).toHaveLength(2);
  });

  test('a store down for longer than the retry time: the batch is lost, counted and logged, its callers told', async () => {
    const store = standIn(() => new StoreUnavailableError('database down'));
    const { intake: i, counters, warnings } = intake(store, { retryForMs: 150 });
    await expect(i.submit(events(4))).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(counters.eventsLost).toBe(4);
    expect(warnings.at(-1)).toContain('4 events lost');
  });

  test('a refused batch is written event by event; a refused task-run update is dropped, not its event', async () => {
    const task = crypto.randomUUID();
    const withRun = received(taskRunEvent(task, crypto.randomUUID(), COMPLETED, Date.now()));
    const poison = events(1)[0];
    const store = standIn((records, runs) => {
      if (runs.length > 0) return new Refusal('conflict', 'taken keys');
      if (records.some((r) => r.id === poison.record.id)) return new Refusal('conflict', 'no');
      return null;
    });
    const { intake: i, counters } = intake(store);
    const good = events(3);
    i.push([good[0], withRun, good[1], poison, good[2]]);
    await i.close();
    expect(store.written).toEqual([good[0].record.id, withRun.record.id, good[1].record.id, good[2].record.id]);
    expect(counters.eventsLost).toBe(1);
  });

  test('past the high-water mark the sockets are told to pause, and to resume at half of it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const store = standIn();
    const slow = async (records: readonly EventRecord[], runs: readonly TaskRunObservation[]) => {
      await gate;
      return store.append(records, runs);
    };
    const { intake: i } = { intake: new EventIntake(slow, silentLogger, new IntakeCounters(), { ...DEFAULT_INTAKE_LIMITS, batchEvents: 10, highWaterEvents: 40 }) };
    const pressure: boolean[] = [];
    i.onPressure = (saturated) => pressure.push(saturated);
    i.push(events(30));
    expect(i.saturated).toBe(false);
    i.push(events(15));
    expect(i.saturated).toBe(true);
    expect(pressure).toEqual([true]);
    release();
    await i.close();
    expect(pressure).toEqual([true, false]);
    expect(store.written).toHaveLength(45);
  });

  test('close writes what is queued, then refuses more (503 for POST /api/events)', async () => {
    const store = standIn();
    const { intake: i } = intake(store);
    i.push(events(3));
    await i.close();
    expect(store.written).toHaveLength(3);
    expect(() => i.push(events(1))).toThrow(StoreUnavailableError);
    await expect(i.submit(events(1))).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
