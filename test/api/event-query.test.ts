/**
 * events/query.ts and events/page-token.ts on their own: an EventFilter made into the store's
 * EventQuery (Prefect's default time range, empty lists meaning no constraint, 501 for what is
 * not evaluated), and the next-page token — a round trip, and a refusal (null) for anything a
 * client could make up.
 */
import { describe, expect, test } from 'bun:test';
import { decodePageToken, encodePageToken, type PageToken } from '../../src/events/page-token.ts';
import { defaultSince, eventQuery } from '../../src/events/query.ts';
import { ApiError } from '../../src/http/errors.ts';
import type { EventFilter } from '../../src/schemas/events.ts';

const NOW = Date.UTC(2026, 11, 7, 6, 30, 15, 123) * 1000 + 456;
const DAY = 86_400_000_000;

describe('eventQuery', () => {
  test('no filter: since = 180 days before today began (UTC), until = now, newest first', () => {
    const midnight = Date.UTC(2026, 11, 7) * 1000;
    expect(defaultSince(NOW)).toBe(midnight - 180 * DAY);
    expect(eventQuery(null, NOW)).toEqual({ since: midnight - 180 * DAY, until: NOW, order: 'DESC' });
    expect(eventQuery(undefined, NOW)).toEqual(eventQuery({}, NOW));
  });

  test('the time range and order as given', () => {
    const q = eventQuery({ occurred: { since: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00.5+01:00' }, order: 'ASC' }, NOW);
    expect(q).toEqual({ since: Date.UTC(2026, 0, 1) * 1000, until: Date.UTC(2026, 0, 1, 23, 0, 0, 500) * 1000, order: 'ASC' });
    expect(eventQuery({ occurred: { until: '2026-01-02T00:00:00Z' } }, NOW).since).toBe(defaultSince(NOW));
  });

  test('every list maps to its field; empty lists and nulls constrain nothing', () => {
    const filter: EventFilter = {
      id: { id: ['5b0e8c1a-7d2f-4e3a-9b6c-0d1e2f3a4b5c'] },
      event: { prefix: ['prefect.task-run.'], exclude_prefix: ['prefect.flow-run.'], name: ['a'], exclude_name: ['b'] },
      resource: { id: ['r'], id_prefix: ['prefect.'], labels: {}, distinct: false },
      any_resource: { id: ['x'], id_prefix: ['y'] },
      related: { id: ['prefect.flow-run.1'], role: ['flow-run'], resources_in_roles: [], labels: {} },
    };
    expect(eventQuery(filter, NOW)).toEqual({
      since: defaultSince(NOW),
      until: NOW,
      order: 'DESC',
      ids: ['5b0e8c1a-7d2f-4e3a-9b6c-0d1e2f3a4b5c'],
      prefixes: ['prefect.task-run.'],
      excludePrefixes: ['prefect.flow-run.'],
      names: ['a'],
      excludeNames: ['b'],
      resourceIds: ['r'],
      resourceIdPrefixes: ['prefect.'],
      anyResourceIds: ['x'],
      anyResourceIdPrefixes: ['y'],
      relatedIds: ['prefect.flow-run.1'],
      relatedRoles: ['flow-run'],
    });
    const empty: EventFilter = {
      id: { id: [] },
      event: { prefix: [], exclude_prefix: null, name: [], exclude_name: [] },
      resource: { id: [], id_prefix: null },
      any_resource: null,
      related: { id: [], role: [] },
    };
    expect(eventQuery(empty, NOW)).toEqual({ since: defaultSince(NOW), until: NOW, order: 'DESC' });
  });

  describe('what is not evaluated answers 501 in Prefect’s detail shape', () => {
    const cases: [string, EventFilter][] = [
      ['resource.labels', { resource: { labels: { 'prefect.resource.name': 'x' } } }],
      ['resource.distinct', { resource: { distinct: true } }],
      ['any_resource.labels', { any_resource: { labels: { a: ['b', 'c*'] } } }],
      ['related.labels', { related: { labels: { 'prefect.resource.role': 'flow' } } }],
      ['related.resources_in_roles', { related: { resources_in_roles: [['prefect.flow-run.1', 'flow-run']] } }],
    ];
    for (const [what, filter] of cases) {
      test(what, () => {
        let error: unknown;
        try {
          eventQuery(filter, NOW);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ApiError);
        expect((error as ApiError).status).toBe(501);
        expect((error as ApiError).body).toEqual({ detail: `Filtering events by ${what} is not supported by this server.` });
      });
    }
  });
});

describe('page tokens', () => {
  const token: PageToken = {
    query: { since: 1, until: NOW, order: 'ASC', prefixes: ['prefect.'], relatedRoles: ['flow-run'], ids: ['5b0e8c1a-7d2f-4e3a-9b6c-0d1e2f3a4b5c'] },
    after: { occurred: NOW - 5, id: '01a24f35-0d8b-70d3-a44b-46e236556ad9' },
    total: 1234,
    limit: 50,
  };

  test('round trip, URL-safe (base64url: nothing to escape in a query string)', () => {
    const text = encodePageToken(token);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(text)).toEqual(token);
  });

  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const raw = { v: 1, q: token.query, a: [token.after.occurred, token.after.id], t: 1234, l: 50 };

  const refused: [string, string][] = [
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['not an object', encode([1, 2])],
    ['another version', encode({ ...raw, v: 2 })],
    ['an extra key', encode({ ...raw, x: 1 })],
    ['a key missing', encode({ v: 1, q: raw.q, a: raw.a, t: 1 })],
    ['limit 0', encode({ ...raw, l: 0 })],
    ['limit 51', encode({ ...raw, l: 51 })],
    ['negative total', encode({ ...raw, t: -1 })],
    ['fractional total', encode({ ...raw, t: 1.5 })],
    ['cursor not a pair', encode({ ...raw, a: [1] })],
    ['cursor time not an integer', encode({ ...raw, a: ['1', token.after.id] })],
    ['cursor id not canonical', encode({ ...raw, a: [1, token.after.id.toUpperCase()] })],
    ['cursor id not a UUID', encode({ ...raw, a: [1, 'x'] })],
    ['query not an object', encode({ ...raw, q: 'all' })],
    ['query order unknown', encode({ ...raw, q: { ...raw.q, order: 'UP' } })],
    ['query time not an integer', encode({ ...raw, q: { ...raw.q, since: 1.5 } })],
    ['query time missing', encode({ ...raw, q: { until: 1, order: 'ASC' } })],
    ['query unknown key', encode({ ...raw, q: { ...raw.q, labels: ['x'] } })],
    ['query list empty', encode({ ...raw, q: { ...raw.q, names: [] } })],
    ['query list of numbers', encode({ ...raw, q: { ...raw.q, names: [1] } })],
    ['query ids not UUIDs', encode({ ...raw, q: { ...raw.q, ids: ['x'] } })],
    ['too long', 'a'.repeat(300_000)],
  ];
  for (const [what, text] of refused) test(`refused: ${what}`, () => expect(decodePageToken(text)).toBeNull());
});
