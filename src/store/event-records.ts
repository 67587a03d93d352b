/**
 * What the store keeps for an event: the ReceivedEvent JSON a client reads back (`occurred`,
 * `event`, `resource`, `related`, `payload`, `id`, `follows`, `received`, as Prefect emits it),
 * plus the fields the event filters read, so that no filter parses the JSON.
 */
import type { Event } from '../schemas/events.ts';
import { formatMicros } from '../time.ts';

export interface EventRecord {
  id: string;
  /** µs since the epoch: when it happened, by the sender's clock (the filters' and sorts' time). */
  occurred: number;
  /** µs: when this server accepted it. */
  received: number;
  /** The event's name, e.g. `prefect.task-run.Completed`. */
  event: string;
  /** The primary resource's `prefect.resource.id`. */
  resource_id: string;
  /** Each related resource's `[prefect.resource.id, prefect.resource.role]`, in order. */
  related: [string, string][];
  /** The ReceivedEvent JSON text. */
  json: string;
}

/** The record of a validated event (`occurred` already parsed to µs), received at `received`. */
export function eventRecord(event: Event, occurred: number, received: number): EventRecord {
  const related = event.related ?? [];
  const json = JSON.stringify({
    occurred: formatMicros(occurred),
    event: event.event,
    resource: event.resource,
    related,
    payload: event.payload ?? {},
    id: event.id,
    follows: event.follows ?? null,
    received: formatMicros(received),
  });
  return {
    id: event.id,
    occurred,
    received,
    event: event.event,
    resource_id: event.resource['prefect.resource.id'],
    related: related.map((r) => [r['prefect.resource.id'], r['prefect.resource.role']]),
    json,
  };
}
