/**
 * An EventFilter (`POST /api/events/filter`) made into the store's EventQuery: the time range
 * resolved as Prefect's defaults resolve it (since: the start of today, UTC, minus 180 days;
 * until: now), empty lists dropped (Prefect tests each list for truth, so `[]` constrains
 * nothing), and the parts this server does not evaluate — resource labels, `resources_in_roles`,
 * `distinct` — refused with a 501 before any backend sees them.
 */
import { detail } from '../http/errors.ts';
import type { EventFilter } from '../schemas/events.ts';
import type { EventQuery } from '../store/contract.ts';
import { parseDateTime } from '../validation/datetime.ts';

const DAY_US = 86_400_000_000;
/** Prefect's default look-back: 180 days before today began. */
export const DEFAULT_LOOKBACK_DAYS = 180;

/** The default `since` at `now` (µs): midnight UTC of today, minus 180 days. */
export function defaultSince(now: number): number {
  return Math.floor(now / DAY_US) * DAY_US - DEFAULT_LOOKBACK_DAYS * DAY_US;
}

const given = (list: readonly string[] | null | undefined): string[] | undefined => (list && list.length > 0 ? [...list] : undefined);
const hasLabels = (labels: Record<string, unknown> | null | undefined) => labels != null && Object.keys(labels).length > 0;

function unsupported(what: string): never {
  throw detail(501, `Filtering events by ${what} is not supported by this server.`);
}

/** The query of `filter` (validated; null or absent: every event of the default range) at `now` (µs). */
export function eventQuery(filter: EventFilter | null | undefined, now: number): EventQuery {
  const f = filter ?? {};
  if (hasLabels(f.resource?.labels)) unsupported('resource.labels');
  if (f.resource?.distinct === true) unsupported('resource.distinct');
  if (hasLabels(f.any_resource?.labels)) unsupported('any_resource.labels');
  if (hasLabels(f.related?.labels)) unsupported('related.labels');
  if (given(f.related?.resources_in_roles as string[] | undefined)) unsupported('related.resources_in_roles');
  const since = f.occurred?.since;
  const until = f.occurred?.until;
  const query: EventQuery = {
    since: since === undefined ? defaultSince(now) : parseDateTime(since)!,
    until: until === undefined ? now : parseDateTime(until)!,
    order: f.order ?? 'DESC',
  };
  const set = <K extends keyof EventQuery>(key: K, value: EventQuery[K] | undefined) => {
    if (value !== undefined) query[key] = value;
  };
  set('ids', given(f.id?.id));
  set('prefixes', given(f.event?.prefix));
  set('excludePrefixes', given(f.event?.exclude_prefix));
  set('names', given(f.event?.name));
  set('excludeNames', given(f.event?.exclude_name));
  set('resourceIds', given(f.resource?.id));
  set('resourceIdPrefixes', given(f.resource?.id_prefix));
  set('anyResourceIds', given(f.any_resource?.id));
  set('anyResourceIdPrefixes', given(f.any_resource?.id_prefix));
  set('relatedIds', given(f.related?.id));
  set('relatedRoles', given(f.related?.role));
  return query;
}
