/**
 * Events (`/events/in`, `POST /events`, `POST /events/filter`, retention). An event is written
 * once and never edited: the record under [occurred, id], its id's entry (id → occurred), one
 * entry in the resource index per distinct id among its primary and related resources
 * (query/events.ts reads them), and the `events` counter. The task-run observations made from a
 * batch of events are applied in the batch's transaction (task-run-events.ts), so a task run
 * never reflects an event the store does not hold, nor the reverse; a run the batch moves several
 * times is written once (ObservedRuns).
 *
 * Why records are keyed by time and not by id: clients make event ids (random UUIDs in Prefect
 * 3.0), so a table keyed by id takes each event on a random page of its tree, and a batch of
 * events dirties and syncs a page per event. Keyed by [occurred, id], a stream of new events
 * appends at the tree's end; only the small id → occurred entries land at random.
 */
import type { Key } from 'lmdb';
import type { EventCursor, EventPage, EventQuery, EventRepository, TaskRunObservation } from '../contract.ts';
import type { EventRecord } from '../event-records.ts';
import { nowMicros } from '../../time.ts';
import { durably } from './durable.ts';
import type { StoreDbs } from './env.ts';
import { countEvents, findEvents, resourceKey } from './query/events.ts';
import { slicedQuery } from './query/slices.ts';
import { bump, countersOnce } from './rows.ts';
import { applyObservation, flushObservations, type ObservedRuns } from './task-run-events.ts';

const EMPTY = Buffer.alloc(0);

/** The key of an event's record. */
export { eventById } from './query/events.ts';

export const eventKey = (e: Pick<EventRecord, 'occurred' | 'id'>): Key[] => [e.occurred, e.id];

/** `events.byResource` keys of an event: its primary resource's id and each related id, each once. */
export function eventResourceKeys(e: Pick<EventRecord, 'resource_id' | 'related' | 'occurred' | 'id'>): Key[][] {
  const ids = new Set([e.resource_id]);
  for (const [id] of e.related) ids.add(id);
  return [...ids].map((id) => [resourceKey(id), e.occurred, e.id]);
}

/** The record as stored: fields in one order, so every record shares one msgpack structure. */
const stored = (e: EventRecord): EventRecord => ({
  id: e.id,
  occurred: e.occurred,
  received: e.received,
  event: e.event,
  resource_id: e.resource_id,
  related: e.related,
  json: e.json,
});

/** Writes a new event with its index entries (the caller counts it). Inside a write transaction. */
export function putEvent(dbs: StoreDbs, event: EventRecord): void {
  dbs.events.put(eventKey(event), stored(event));
  dbs.eventsById.put(event.id, event.occurred);
  for (const key of eventResourceKeys(event)) dbs.eventsByResource.put(key, EMPTY);
}

function removeEvent(dbs: StoreDbs, event: EventRecord): void {
  dbs.events.remove(eventKey(event));
  dbs.eventsById.remove(event.id);
  for (const key of eventResourceKeys(event)) dbs.eventsByResource.remove(key);
}

export class EventStore implements EventRepository {
  constructor(
    private readonly dbs: StoreDbs,
    /** How long a `find` or `count` may run before it stops with QueryDeadlineError. */
    private readonly timeoutMs: number,
  ) {}

  append(events: readonly EventRecord[], taskRuns: readonly TaskRunObservation[]): Promise<void> {
    if (events.length === 0 && taskRuns.length === 0) return Promise.resolve();
    const { dbs } = this;
    const now = nowMicros();
    return durably(dbs.env, () =>
      countersOnce(dbs, () => {
        let added = 0;
        for (const event of events) {
          // A client resends what it is not sure arrived: the stored event stays as it is.
          if (dbs.eventsById.doesExist(event.id)) continue;
          putEvent(dbs, event);
          added++;
        }
        if (added > 0) bump(dbs, 'events', added);
        const observed: ObservedRuns = new Map();
        for (const observation of taskRuns) applyObservation(dbs, observation, now, observed);
        flushObservations(dbs, observed);
      }),
    );
  }

  find(query: EventQuery, limit: number, after: EventCursor | null): Promise<EventPage> {
    return slicedQuery(this.dbs.env, this.timeoutMs, (at) => findEvents(this.dbs, query, limit, after, at));
  }

  count(query: EventQuery): Promise<number> {
    return slicedQuery(this.dbs.env, this.timeoutMs, (at) => countEvents(this.dbs, query, at));
  }

  deleteBefore(cutoff: number, limit: number): Promise<number> {
    const { dbs } = this;
    return durably(dbs.env, () => {
      const old = [...dbs.events.getRange({ end: [cutoff], limit })].map(({ value }) => value);
      for (const event of old) removeEvent(dbs, event);
      if (old.length > 0) bump(dbs, 'events', -old.length);
      return old.length;
    });
  }
}

/** An exported event, imported as it was stored (transfer.ts). Inside a write transaction. */
export function putImportedEvent(dbs: StoreDbs, event: EventRecord): void {
  putEvent(dbs, event);
  bump(dbs, 'events', 1);
}
