/**
 * What an EventQuery means, as a predicate over stored events: every constraint present must
 * hold (Prefect's EventFilter `includes`). The LMDB backend filters with it; every backend's
 * query plan is tested against it on random events.
 */
import type { EventQuery } from '../store/contract.ts';
import type { EventRecord } from '../store/event-records.ts';

const startsWithOne = (value: string, prefixes: readonly string[]) => prefixes.some((p) => value.startsWith(p));

/** One resource id (and role, for related ones) against id and prefix lists. */
function resourceMatches(id: string, ids: readonly string[] | undefined, prefixes: readonly string[] | undefined): boolean {
  return (ids === undefined || ids.includes(id)) && (prefixes === undefined || startsWithOne(id, prefixes));
}

export function eventMatches(q: EventQuery, e: EventRecord): boolean {
  if (e.occurred < q.since || e.occurred > q.until) return false;
  if (q.ids !== undefined && !q.ids.includes(e.id)) return false;
  if (q.prefixes !== undefined && !startsWithOne(e.event, q.prefixes)) return false;
  if (q.excludePrefixes !== undefined && startsWithOne(e.event, q.excludePrefixes)) return false;
  if (q.names !== undefined && !q.names.includes(e.event)) return false;
  if (q.excludeNames !== undefined && q.excludeNames.includes(e.event)) return false;
  if (!resourceMatches(e.resource_id, q.resourceIds, q.resourceIdPrefixes)) return false;
  if (q.anyResourceIds !== undefined || q.anyResourceIdPrefixes !== undefined) {
    const some =
      resourceMatches(e.resource_id, q.anyResourceIds, q.anyResourceIdPrefixes) ||
      e.related.some(([id]) => resourceMatches(id, q.anyResourceIds, q.anyResourceIdPrefixes));
    if (!some) return false;
  }
  if (q.relatedIds !== undefined || q.relatedRoles !== undefined) {
    const some = e.related.some(
      ([id, role]) => (q.relatedIds === undefined || q.relatedIds.includes(id)) && (q.relatedRoles === undefined || q.relatedRoles.includes(role)),
    );
    if (!some) return false;
  }
  return true;
}

/** Where `e` sits in the query's order relative to a cursor: true when it comes after it. */
export function isAfter(q: EventQuery, e: { occurred: number; id: string }, cursor: { occurred: number; id: string }): boolean {
  const cmp = e.occurred !== cursor.occurred ? e.occurred - cursor.occurred : e.id < cursor.id ? -1 : e.id > cursor.id ? 1 : 0;
  return q.order === 'ASC' ? cmp > 0 : cmp < 0;
}
