/**
 * One event as the server takes it in, whichever way it came (a websocket frame, an item of
 * `POST /api/events`): validated as Prefect's Event model by the validator every REST route
 * uses, its time parsed, stamped with when it was received, and read by the task-run recorder.
 */
import { Event, MAX_RELATED_RESOURCES } from '../schemas/events.ts';
import { eventRecord, type EventRecord } from '../store/event-records.ts';
import type { TaskRunObservation } from '../store/contract.ts';
import { parseDateTime } from '../validation/datetime.ts';
import { validate, type Loc, type ValidationIssue } from '../validation/validate.ts';
import { taskRunObservation } from './task-run-recorder.ts';

export interface ReceivedEvent {
  record: EventRecord;
  /** What it says about a task run, when it is a client's `prefect.task-run.*` event. */
  observation: TaskRunObservation | null;
}

export type Receipt = { ok: true; event: ReceivedEvent } | { ok: false; issues: ValidationIssue[] };

/** `value` (parsed JSON) as an event received at `received` (µs), or Pydantic's issues at `loc`. */
export function receiveEvent(value: unknown, loc: Loc, received: number): Receipt {
  const checked = validate(Event, value, loc);
  if (checked.issues.length > 0) return { ok: false, issues: checked.issues };
  const event = checked.value as Event;
  // The schema's maxItems is not one the validator enforces; Prefect's field validator words it so.
  if (event.related !== undefined && event.related.length > MAX_RELATED_RESOURCES) {
    const msg = `Value error, The maximum number of related resources is ${MAX_RELATED_RESOURCES}`;
    return { ok: false, issues: [{ type: 'value_error', loc: [...loc, 'related'], msg, input: (value as Record<string, unknown>).related, ctx: { error: {} } }] };
  }
  const occurred = parseDateTime(event.occurred)!; // the validator checked it parses
  return { ok: true, event: { record: eventRecord(event, occurred, received), observation: taskRunObservation(event, occurred) } };
}
