/**
 * `POST /events/filter` and its count on LMDB: where a query's candidates come from, and the
 * walk that tests them with `eventMatches` (filters/events.ts, the reference every plan is
 * tested against).
 *
 * Candidates come, in the query's order (occurred, then id), from the first that applies:
 * - `ids`: each event read by id (a request names a handful);
 * - `resourceIds`, `anyResourceIds` or `relatedIds`: their entries in `events.byResource`, which
 *   holds an event under its primary resource's id and under each related resource's id, so any
 *   of the three lists finds a superset of its matches there. Each listed id is one range, the
 *   ranges merged in order and an event met twice (under two listed ids) taken once. When the
 *   query has two or three of these lists, the one with the fewest entries is walked: their
 *   entries are counted side by side, 64 at a time, and the first list to run out is the
 *   smallest, so the choice costs at most three times that list's length;
 * - otherwise the records themselves (`events`, keyed [occurred, id]) between `since` and `until`.
 * Every range starts at the cursor when there is one (a page follows its predecessor without
 * re-reading it). A page reads candidates until it has `limit` matches and then one more, to
 * know whether a next page exists.
 *
 * A count with no condition but the time range counts the records' keys without decoding an
 * event, and answers from the `events` counter when the range holds every stored event.
 */
import { eventMatches, isAfter } from '../../../filters/events.ts';
import type { EventCursor, EventPage, EventQuery } from '../../contract.ts';
import type { EventRecord } from '../../event-records.ts';
import type { StoreDbs } from '../env.ts';
import { mergeSorted } from './merge.ts';
import { ROWS_PER_PAUSE, type At, type Sliced } from './slices.ts';

/** Where a query's candidates come from. */
export type EventSource = { kind: 'ids'; ids: string[] } | { kind: 'resources'; ids: string[] } | { kind: 'time' };

/**
 * The first element of a resource id's keys in `events.byResource`: a 52-bit FNV-1a hash of the
 * id. Resource ids are long strings (`prefect.flow-run.<uuid>`), and a number keeps the index's
 * keys short, which makes its writes about twice as cheap as with the string; two ids that share
 * a hash only share a range, whose events `eventMatches` then tells apart. Computed here, not by
 * the runtime, because the values are stored.
 */
export function resourceKey(resourceId: string): number {
  let low = 0x811c9dc5;
  let high = 0x050c5d1f;
  for (let i = 0; i < resourceId.length; i++) {
    const c = resourceId.charCodeAt(i);
    low = Math.imul(low ^ c, 0x01000193);
    high = Math.imul(high ^ c, 0x01000193);
  }
  return (high & 0xfffff) * 0x100000000 + (low >>> 0);
}

/** The stored event of `id`, if any (`at`: a read transaction's options). */
export function eventById(dbs: StoreDbs, id: string, at?: At): EventRecord | undefined {
  const occurred = dbs.eventsById.get(id, at);
  return occurred === undefined ? undefined : dbs.events.get([occurred, id], at);
}

interface Entry {
  occurred: number;
  id: string;
}

/** The range of an index whose keys are `[...prefix, occurred, id]`, in the query's order from the cursor. */
function range(q: EventQuery, prefix: number[], after: EventCursor | null) {
  if (q.order === 'ASC') {
    const low = after !== null && after.occurred >= q.since ? [after.occurred, after.id] : [q.since];
    // Strings sort after numbers in ordered keys: [until, "\uffff"] is past every id at `until`.
    return { start: [...prefix, ...low], end: [...prefix, q.until, '\uffff'] };
  }
  const high = after !== null && after.occurred <= q.until ? [after.occurred, after.id] : [q.until, '\uffff'];
  return { start: [...prefix, ...high], end: [...prefix, q.since], reverse: true };
}

/** The entries of each listed resource id, merged in the query's order. */
function resourceEntries(dbs: StoreDbs, q: EventQuery, resourceIds: readonly string[], after: EventCursor | null, at: At): Iterable<Entry> {
  const ranges = resourceIds.map((resourceId) =>
    dbs.eventsByResource.getKeys({ ...range(q, [resourceKey(resourceId)], after), ...at }).map((key) => {
      const [, occurred, id] = key as [number, number, string];
      return { occurred, id };
    }),
  );
  const ascending = (a: Entry, b: Entry) => a.occurred < b.occurred || (a.occurred === b.occurred && a.id < b.id);
  return mergeSorted(ranges, q.order === 'ASC' ? ascending : (a, b) => ascending(b, a));
}

/**
 * The source of a query's candidates (see above). Sizing two or three resource lists reads their
 * entries and pauses as any walk does.
 */
export function* chooseSource(dbs: StoreDbs, q: EventQuery, at: At): Sliced<EventSource> {
  if (q.ids !== undefined) return { kind: 'ids', ids: [...new Set(q.ids)] };
  const lists = [q.resourceIds, q.anyResourceIds, q.relatedIds].filter((l) => l !== undefined).map((l) => [...new Set(l)]);
  if (lists.length === 0) return { kind: 'time' };
  if (lists.length === 1) return { kind: 'resources', ids: lists[0] };
  const walkers = lists.map((ids) => resourceEntries(dbs, q, ids, null, at)[Symbol.iterator]());
  try {
    for (;;) {
      for (let i = 0; i < walkers.length; i++) {
        for (let n = 0; n < ROWS_PER_PAUSE; n++) if (walkers[i].next().done) return { kind: 'resources', ids: lists[i] };
      }
      yield;
    }
  } finally {
    for (const walker of walkers) walker.return?.();
  }
}

/** The candidate events of `source` in the query's order, from the cursor on (the cursor's own event included). */
function* candidates(dbs: StoreDbs, q: EventQuery, source: EventSource, after: EventCursor | null, at: At): Generator<EventRecord> {
  if (source.kind === 'ids') {
    const found = source.ids.map((id) => eventById(dbs, id, at)).filter((e) => e !== undefined);
    found.sort((a, b) => (a.occurred - b.occurred || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) * (q.order === 'ASC' ? 1 : -1));
    yield* found;
    return;
  }
  if (source.kind === 'time') {
    for (const { value } of dbs.events.getRange({ ...range(q, [], after), ...at })) yield value;
    return;
  }
  let previous: string | undefined;
  for (const { occurred, id } of resourceEntries(dbs, q, source.ids, after, at)) {
    // One event under two listed resource ids comes twice, one entry after the other.
    if (id === previous) continue;
    previous = id;
    const event = dbs.events.get([occurred, id], at);
    if (event !== undefined) yield event;
  }
}

/** Up to `limit` matches after the cursor, and the cursor of the next page when more match. */
export function* findEvents(dbs: StoreDbs, q: EventQuery, limit: number, after: EventCursor | null, at: At): Sliced<EventPage> {
  const source = yield* chooseSource(dbs, q, at);
  const events: string[] = [];
  let last: EventRecord | undefined;
  let read = 0;
  for (const event of candidates(dbs, q, source, after, at)) {
    if (++read % ROWS_PER_PAUSE === 0) yield;
    if ((after !== null && !isAfter(q, event, after)) || !eventMatches(q, event)) continue;
    // One match past the page: there is a next page, starting after the page's last event.
    if (events.length >= limit) return { events, next: last === undefined ? null : { occurred: last.occurred, id: last.id } };
    events.push(event.json);
    last = event;
  }
  return { events, next: null };
}

/** Whether the query has no condition but its time range. */
const onlyTimeRange = (q: EventQuery) =>
  [q.ids, q.prefixes, q.excludePrefixes, q.names, q.excludeNames, q.resourceIds, q.resourceIdPrefixes, q.anyResourceIds, q.anyResourceIdPrefixes, q.relatedIds, q.relatedRoles].every(
    (condition) => condition === undefined,
  );

export function* countEvents(dbs: StoreDbs, q: EventQuery, at: At): Sliced<number> {
  if (onlyTimeRange(q)) return yield* countTimeRange(dbs, q, at);
  const source = yield* chooseSource(dbs, q, at);
  let count = 0;
  let read = 0;
  for (const event of candidates(dbs, q, source, null, at)) {
    if (++read % ROWS_PER_PAUSE === 0) yield;
    if (eventMatches(q, event)) count++;
  }
  return count;
}

/** The events between `since` and `until`, from the records' keys (or the counter, when that is all of them). */
function* countTimeRange(dbs: StoreDbs, q: EventQuery, at: At): Sliced<number> {
  if (q.since > q.until) return 0;
  const edge = (reverse: boolean) => {
    for (const key of dbs.events.getKeys({ reverse, limit: 1, ...at })) return (key as [number, string])[0];
    return undefined;
  };
  const first = edge(false);
  if (first === undefined) return 0;
  if (first >= q.since && edge(true)! <= q.until) return dbs.counters.get('events', at) ?? 0;
  let count = 0;
  for (const _ of dbs.events.getKeys({ start: [q.since], end: [q.until, '\uffff'], ...at })) {
    if (++count % ROWS_PER_PAUSE === 0) yield;
  }
  return count;
}
