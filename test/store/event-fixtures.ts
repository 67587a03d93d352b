/**
 * What the event-store tests of both backends share: events made from a few fields, the
 * brute-force answer to a query (`eventMatches` over every event, sorted by occurred then id —
 * the meaning each backend's plan must reproduce), and a query's pages followed to the end.
 */
import { expect } from 'bun:test';
import { eventMatches } from '../../src/filters/events.ts';
import type { Event } from '../../src/schemas/events.ts';
import type { EventCursor, EventQuery, EventRepository } from '../../src/store/contract.ts';
import { eventRecord, type EventRecord } from '../../src/store/event-records.ts';

export const BASE = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

let serial = 0;
/** A fresh UUID, ordered by when it was made. */
export const uuid = () => `00000000-0000-4000-8000-${String(++serial).padStart(12, '0')}`;

/** An event record received 5 µs after it occurred. */
export function event(occurred: number, name: string, resource: string, related: [string, string][] = [], id = uuid()): EventRecord {
  const e = {
    occurred: '',
    event: name,
    resource: { 'prefect.resource.id': resource, 'prefect.resource.name': 'n' },
    related: related.map(([rid, role]) => ({ 'prefect.resource.id': rid, 'prefect.resource.role': role })),
    payload: { n: 1 },
    id,
    follows: null,
  } as Event;
  return eventRecord(e, occurred, occurred + 5);
}

/** The JSON of the events of `all` that match `q`, in its order. */
export function bruteForce(all: readonly EventRecord[], q: EventQuery): string[] {
  const sorted = all.filter((e) => eventMatches(q, e)).sort((a, b) => a.occurred - b.occurred || (a.id < b.id ? -1 : 1));
  if (q.order === 'DESC') sorted.reverse();
  return sorted.map((e) => e.json);
}

/** Every page of a query, following each cursor; the events and each page's size. */
export async function allPages(events: EventRepository, q: EventQuery, limit: number): Promise<{ events: string[]; sizes: number[] }> {
  const found: string[] = [];
  const sizes: number[] = [];
  let after: EventCursor | null = null;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await events.find(q, limit, after);
    found.push(...page.events);
    sizes.push(page.events.length);
    if (page.next === null) return { events: found, sizes };
    after = page.next;
  }
  throw new Error('no last page');
}

/**
 * Checks one query against its brute-force answer: every page followed to the end gives exactly
 * `wanted` (full pages but the last; an empty page only when nothing matches), and `count` its
 * length. `context` names the seed and query in a failure.
 */
export async function expectPagesAndCount(events: EventRepository, q: EventQuery, wanted: readonly string[], limit: number, context: string): Promise<void> {
  const found = await allPages(events, q, limit);
  if (JSON.stringify(found.events) !== JSON.stringify(wanted)) throw new Error(`${context}\nfound ${found.events.length}, wanted ${wanted.length}`);
  expect(found.sizes.slice(0, -1).every((n) => n === limit)).toBe(true);
  if (wanted.length > 0) expect(found.sizes.at(-1)).toBeGreaterThan(0);
  const count = await events.count(q);
  if (count !== wanted.length) throw new Error(`${context}\ncount ${count}, wanted ${wanted.length}`);
}
