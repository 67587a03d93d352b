/**
 * The `page-token` of `GET /api/events/filter/next`: everything the next page needs, in the
 * link itself — the resolved query (so its time range stays what the first page used), where the
 * last page ended, the total the first page counted, and the page size — as base64url JSON, like
 * Prefect's base64 JSON token (which carries the filter, the count, the page size and an offset).
 *
 * A cursor instead of Prefect's offset: a page starts right after the last event of the one
 * before, so events arriving meanwhile neither repeat nor skip an event, and no page re-reads the
 * ones before it. The token is checked field by field when read back — a client may send any
 * text — and anything that is not one of ours is refused (Prefect answers 403).
 */
import type { EventCursor, EventQuery } from '../store/contract.ts';
import { parseUuid } from '../validation/uuid.ts';

export interface PageToken {
  query: EventQuery;
  after: EventCursor;
  /** The first page's total, reported again on every page (as Prefect does). */
  total: number;
  limit: number;
}

const VERSION = 1;
/** Longer tokens are refused unread: a filter's lists fit with room to spare. */
export const MAX_TOKEN_LENGTH = 256 * 1024;
export const MAX_PAGE_SIZE = 50;

const LISTS = [
  'ids',
  'prefixes',
  'excludePrefixes',
  'names',
  'excludeNames',
  'resourceIds',
  'resourceIdPrefixes',
  'anyResourceIds',
  'anyResourceIdPrefixes',
  'relatedIds',
  'relatedRoles',
] as const;
const QUERY_KEYS = new Set<string>(['since', 'until', 'order', ...LISTS]);

export function encodePageToken(token: PageToken): string {
  const json = JSON.stringify({ v: VERSION, q: token.query, a: [token.after.occurred, token.after.id], t: token.total, l: token.limit });
  return Buffer.from(json, 'utf8').toString('base64url');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isMicros = (v: unknown): v is number => Number.isSafeInteger(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function readQuery(q: unknown): EventQuery | null {
  if (!isObject(q) || !Object.keys(q).every((k) => QUERY_KEYS.has(k))) return null;
  if (!isMicros(q.since) || !isMicros(q.until) || (q.order !== 'ASC' && q.order !== 'DESC')) return null;
  const query: EventQuery = { since: q.since, until: q.until, order: q.order };
  for (const name of LISTS) {
    const list = q[name];
    if (list === undefined) continue;
    // As eventQuery makes them: present lists are never empty.
    if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string')) return null;
    query[name] = list as string[];
  }
  if (query.ids !== undefined && !query.ids.every((id) => parseUuid(id).ok)) return null;
  return query;
}

/** The token's contents, or null for anything that is not a well-formed token of ours. */
export function decodePageToken(text: string): PageToken | null {
  if (text.length === 0 || text.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(value) || value.v !== VERSION || Object.keys(value).length !== 5) return null;
  const query = readQuery(value.q);
  const after = value.a;
  if (query === null || !Array.isArray(after) || after.length !== 2 || !isMicros(after[0]) || typeof after[1] !== 'string') return null;
  const id = parseUuid(after[1]);
  if (!id.ok || id.value !== after[1]) return null;
  if (!isCount(value.t) || !isCount(value.l) || value.l < 1 || value.l > MAX_PAGE_SIZE) return null;
  return { query, after: { occurred: after[0], id: after[1] }, total: value.t, limit: value.l };
}
