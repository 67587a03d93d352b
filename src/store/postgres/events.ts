/**
 * Events on PostgreSQL (`/api/events/in`, `POST /api/events`, `POST /api/events/filter` and its
 * pages, retention).
 *
 * `append` writes the events and their resources (schema-logs-events.ts) with one statement: the
 * events go in with ON CONFLICT (id) DO NOTHING — an id already stored (a client resending after
 * a reconnect, or another instance that received the same event) is skipped — and only the
 * events that went in get their resource rows. With task-run observations the statement runs in
 * one transaction with them (task-run-observations.ts); without, it commits alone.
 *
 * Reads compile the query (event-queries.ts). A page asks for one row more than it returns: that
 * row's existence is what sets `next`, so a page never points at an empty one. A count of a time
 * range that holds every stored event (the events page's default, 180 days back) reads the row
 * counter, not the table.
 */
import type { EventCursor, EventPage, EventQuery, EventRepository, TaskRunObservation } from '../contract.ts';
import type { EventRecord } from '../event-records.ts';
import { run, type Db, type Tx } from './db.ts';
import { afterCursor, eventCondition, eventOrderBy, isTimeRangeOnly, TIME_RANGE_COUNT } from './event-queries.ts';
import { writeTransaction } from './flow-runs.ts';
import { Params } from './params.ts';
import { applyObservations } from './task-run-observations.ts';
import { toPgText } from './text.ts';

/** $1: the events (`{i, o, r, e, p, j}`), $2: their resources (`{i, n, d, r, o}`). */
const INSERT_EVENTS = `
WITH added AS (
  INSERT INTO event (id, occurred, received, event, resource_id, json)
  SELECT x.i, x.o, x.r, x.e, x.p, x.j FROM json_to_recordset($1::text::json) AS x(i text, o bigint, r bigint, e text, p text, j text)
  ON CONFLICT (id) DO NOTHING
  RETURNING id
)
INSERT INTO event_resource (event_id, ordinal, resource_id, role, occurred)
SELECT x.i, x.n, x.d, x.r, x.o FROM json_to_recordset($2::text::json) AS x(i text, n integer, d text, r text, o bigint)
WHERE x.i IN (SELECT id FROM added)`;

/**
 * The two JSON parameters of INSERT_EVENTS; an id given twice is written once (its first record).
 * Rows go in id order: two instances inserting the same events (a client resending to another
 * replica) wait for each other's uncommitted ids in one order, never in a cycle.
 */
export function eventsPayload(events: readonly EventRecord[]): [string, string] {
  const first = new Map<string, EventRecord>();
  for (const e of events) if (!first.has(e.id)) first.set(e.id, e);
  const rows: object[] = [];
  const resources: object[] = [];
  for (const e of [...first.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    rows.push({ i: e.id, o: e.occurred, r: e.received, e: toPgText(e.event), p: toPgText(e.resource_id), j: e.json });
    resources.push({ i: e.id, n: 0, d: toPgText(e.resource_id), r: '', o: e.occurred });
    e.related.forEach(([id, role], n) => resources.push({ i: e.id, n: n + 1, d: toPgText(id), r: toPgText(role), o: e.occurred }));
  }
  return [JSON.stringify(rows), JSON.stringify(resources)];
}

/** Writes `events` (and their resources) in `tx`; an id already stored is skipped. */
export async function insertEvents(tx: Tx, events: readonly EventRecord[]): Promise<void> {
  if (events.length > 0) await run(tx, INSERT_EVENTS, eventsPayload(events));
}

interface PageRow {
  occurred: string;
  id: string;
  json: string;
}

export class PostgresEvents implements EventRepository {
  constructor(private readonly db: Db) {}

  async append(events: readonly EventRecord[], taskRuns: readonly TaskRunObservation[]): Promise<void> {
    if (taskRuns.length === 0) {
      if (events.length > 0) await this.db.unsafe(INSERT_EVENTS, eventsPayload(events));
      return;
    }
    await writeTransaction(this.db, async (tx) => {
      await insertEvents(tx, events);
      await applyObservations(tx, taskRuns);
    });
  }

  async find(query: EventQuery, limit: number, after: EventCursor | null): Promise<EventPage> {
    if (limit <= 0) return { events: [], next: null };
    const p = new Params();
    const where = eventCondition(query, p);
    const conditions = after === null ? where : `${where} AND ${afterCursor(query, after, p)}`;
    const rows = await this.db.unsafe<PageRow>(
      `SELECT e.occurred, e.id, e.json FROM event e WHERE ${conditions} ORDER BY ${eventOrderBy(query)} LIMIT ${p.add(limit + 1)}::bigint`,
      p.values,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { events: page.map((r) => r.json), next: rows.length > limit ? { occurred: Number(last.occurred), id: last.id } : null };
  }

  async count(query: EventQuery): Promise<number> {
    if (isTimeRangeOnly(query)) {
      const [row] = await this.db.unsafe<{ n: string }>(TIME_RANGE_COUNT, [String(query.since), String(query.until)]);
      return Number(row.n);
    }
    const p = new Params();
    const rows = await this.db.unsafe<{ n: string }>(`SELECT count(*)::text AS n FROM event e WHERE ${eventCondition(query, p)}`, p.values);
    return Number(rows[0].n);
  }

  async deleteBefore(cutoff: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const rows = await this.db.unsafe<{ n: string }>(
      `WITH doomed AS (
         SELECT id FROM event WHERE occurred < $1::bigint ORDER BY occurred, id LIMIT $2::bigint FOR UPDATE SKIP LOCKED
       ), gone AS (
         DELETE FROM event e USING doomed d WHERE e.id = d.id RETURNING e.id
       ), resources AS (
         DELETE FROM event_resource r USING gone g WHERE r.event_id = g.id
       )
       SELECT count(*)::text AS n FROM gone`,
      [String(cutoff), limit],
    );
    return Number(rows[0].n);
  }
}
