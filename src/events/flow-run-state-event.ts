/**
 * The event Prefect's server emits itself when it accepts a flow run's new state
 * (`prefect.flow-run.<State name>`; `models/events.py` `flow_run_state_change_event`, the same at
 * 3.0.0 and HEAD): clients never send these, so without them a run's events would show its task
 * runs moving and not the run itself.
 *
 * Its id is the new state's id and it occurred at the state's timestamp (the state-change events
 * of a run are ordered by their states); `follows` names the previous state when the two are
 * within five minutes of each other. The related resources are the run's flow, deployment and
 * parent task run (with their names), then one `prefect.tag.<tag>` per distinct tag of them all,
 * sorted. Prefect truncates state messages at 100,000 characters.
 */
import type { Event } from '../schemas/events.ts';
import type { DeploymentRecord, FlowRecord, FlowRunRecord, StateRecord, TaskRunRecord } from '../store/companion-records.ts';
import { eventRecord, type EventRecord } from '../store/event-records.ts';
import { formatMicros } from '../time.ts';

const TRUNCATE_STATE_MESSAGES_AT = 100_000;
const TIGHT_TIMING_US = 5 * 60 * 1_000_000;

/** What the run's related resources are made from (each absent when the run has none). */
export interface FlowRunRelations {
  flow?: FlowRecord;
  deployment?: DeploymentRecord;
  parentTaskRun?: TaskRunRecord;
}

/** Prefect's `truncated_to`: "" for no text; a long one keeps its two ends around a "...N additional characters..." note. */
function truncated(length: number, text: string | null): string {
  if (!text) return '';
  if (text.length <= length) return text;
  const half = Math.floor(length / 2);
  const proposed = `${text.slice(0, half)}...${text.length - 2 * half} additional characters...${text.slice(-half)}`;
  return proposed.length < text.length ? proposed : text;
}

/** Python's `datetime.isoformat()` of a UTC time: `+00:00`, microseconds unless zero. */
const isoformat = (micros: number) => formatMicros(micros).replace(/Z$/, '+00:00');

function statePayload(state: StateRecord | null): Record<string, string> | null {
  if (state === null) return null;
  const payload: Record<string, string> = { type: state.type };
  if (state.name) payload.name = state.name;
  if (state.message) payload.message = truncated(TRUNCATE_STATE_MESSAGES_AT, state.message);
  if (state.type === 'PAUSED') payload.pause_reschedule = String(state.state_details.pause_reschedule);
  return payload;
}

function related(run: FlowRunRecord, relations: FlowRunRelations): Record<string, string>[] {
  const resources: Record<string, string>[] = [];
  const tags = new Set(run.tags);
  const add = (kind: string, role: string, record: { id: string; name: string; tags: string[] } | undefined) => {
    if (!record) return;
    for (const tag of record.tags) tags.add(tag);
    resources.push({ 'prefect.resource.id': `prefect.${kind}.${record.id}`, 'prefect.resource.role': role, 'prefect.resource.name': record.name });
  };
  add('flow', 'flow', relations.flow);
  add('deployment', 'deployment', relations.deployment);
  add('task-run', 'task-run', relations.parentTaskRun);
  for (const tag of [...tags].sort()) resources.push({ 'prefect.resource.id': `prefect.tag.${tag}`, 'prefect.resource.role': 'tag' });
  return resources;
}

/** The state-change event of `run`, now in `run.state`, coming from `initial` (null: its first state). */
export function flowRunStateEvent(run: FlowRunRecord, initial: StateRecord | null, relations: FlowRunRelations, received: number): EventRecord {
  const state = run.state!;
  const tight = initial !== null && Math.abs(state.timestamp - initial.timestamp) < TIGHT_TIMING_US;
  const event: Event = {
    occurred: formatMicros(state.timestamp),
    event: `prefect.flow-run.${state.name}`,
    resource: {
      'prefect.resource.id': `prefect.flow-run.${run.id}`,
      'prefect.resource.name': run.name,
      'prefect.state-message': truncated(TRUNCATE_STATE_MESSAGES_AT, state.message),
      'prefect.state-name': state.name,
      'prefect.state-timestamp': isoformat(state.timestamp),
      'prefect.state-type': state.type,
    },
    related: related(run, relations),
    payload: { intended: { from: initial?.type ?? null, to: state.type }, initial_state: statePayload(initial), validated_state: statePayload(state) },
    id: state.id,
    follows: tight ? initial!.id : null,
  };
  return eventRecord(event, state.timestamp, received);
}
