/**
 * Prefect's task-run recorder as a pure function: which events make task runs, and what each
 * says about its run (`services/task_run_recorder.py`, the same at 3.0.0 and HEAD).
 *
 * In Prefect 3, clients never create ordinary task runs through the REST API: a task run exists
 * on the server because its `prefect.task-run.*` events arrive. The recorder takes an event only
 * when its name starts with `prefect.task-run` and its resource says `prefect.orchestration:
 * client`. The run's id is the resource's (`prefect.task-run.<uuid>`), its flow run the first
 * related resource in the role `flow-run` (`prefect.flow-run.<uuid>`); the state is the payload's
 * `validated_state` under the event's id and `occurred`; the run's other fields are those of the
 * payload's `task_run` object that are present. How an observation changes a stored run (newer
 * states win, whatever the arrival order) is `observedTaskRun` in store/task-run-events.ts.
 *
 * Where Prefect's models would refuse the payload (a missing `task_key`, a state without a type,
 * an id that is not a UUID) there is no observation: the event is still stored, as Prefect's
 * event persister stores it while its recorder fails on it. Nothing here throws.
 *
 * Two liberties, both about payloads no Prefect client sends: keys of `validated_state` or
 * `task_run` that would override the event's own id, time or run (`id`, `timestamp`,
 * `flow_run_id`, `state`, `state_id`) are ignored; and `null` for a field with a default is read
 * as absent rather than refused.
 */
import type { Static } from '@sinclair/typebox';
import { DateTime, Opt, StateType, t } from '../schemas/common.ts';
import { StateDetailsInput, TaskRunPolicy } from '../schemas/companions.ts';
import type { Event } from '../schemas/events.ts';
import type { TaskRunPolicy as Policy } from '../store/companion-records.ts';
import type { ObservedTaskRunFields, TaskRunObservation } from '../store/contract.ts';
import { taskRunPolicyDefaults } from '../store/policies.ts';
import { buildState } from '../store/states.ts';
import { parseDateTime } from '../validation/datetime.ts';
import { parseUuid } from '../validation/uuid.ts';
import { validate } from '../validation/validate.ts';

/** Prefect's server State model, as the payload's `validated_state` carries it (unknown keys ignored). */
const ValidatedState = t.Object({
  type: StateType,
  name: Opt(t.String()),
  message: Opt(t.String()),
  data: t.Optional(t.Unknown()),
  state_details: Opt(StateDetailsInput),
});

/** The TaskRun fields a payload's `task_run` may set (unknown keys ignored, as the model does). */
const ObservedRun = t.Object({
  name: Opt(t.String()),
  task_key: t.String(),
  dynamic_key: t.String(),
  cache_key: Opt(t.String()),
  cache_expiration: Opt(DateTime()),
  task_version: Opt(t.String()),
  empirical_policy: Opt(TaskRunPolicy),
  tags: Opt(t.Array(t.String())),
  labels: Opt(t.Record(t.String(), t.Unknown())),
  // Kept as the client wrote them: newer clients add input kinds, and the server only stores them.
  task_inputs: Opt(t.Record(t.String(), t.Array(t.Record(t.String(), t.Unknown())))),
  run_count: Opt(t.Integer()),
  flow_run_run_count: Opt(t.Integer()),
  expected_start_time: Opt(DateTime()),
  start_time: Opt(DateTime()),
  end_time: Opt(DateTime()),
  total_run_time: Opt(t.Number()),
});
type ObservedRun = Static<typeof ObservedRun>;

const TIMES = ['cache_expiration', 'expected_start_time', 'start_time', 'end_time'] as const;
const KEPT = ['name', 'task_key', 'dynamic_key', 'cache_key', 'task_version', 'tags', 'labels', 'task_inputs', 'run_count', 'flow_run_run_count', 'total_run_time'] as const;

/** The UUID of a resource id such as `prefect.task-run.<uuid>`, or null when it is not one of `kind`. */
function objectId(resourceId: string | undefined, kind: string): string | null {
  if (resourceId === undefined || !resourceId.startsWith(`${kind}.`)) return null;
  const parsed = parseUuid(resourceId.slice(kind.length + 1));
  return parsed.ok ? parsed.value : null;
}

/** The policy as Prefect stores it: defaults filled, deprecated fields copied as its validator does. */
function policy(input: Partial<Policy>): Policy {
  const p = taskRunPolicyDefaults(input);
  if (!p.retries && p.max_retries !== 0) p.retries = p.max_retries;
  if (!p.retry_delay && p.retry_delay_seconds !== 0) p.retry_delay = p.retry_delay_seconds;
  return p;
}

function fieldsOf(run: ObservedRun): ObservedTaskRunFields | null {
  const fields: ObservedTaskRunFields = {};
  const writable = fields as Record<string, unknown>;
  for (const name of KEPT) if (run[name] !== undefined && run[name] !== null) writable[name] = run[name];
  for (const name of TIMES) {
    const text = run[name];
    if (text === undefined) continue;
    if (text === null) {
      writable[name] = null;
      continue;
    }
    const micros = parseDateTime(text);
    if (micros === undefined) return null;
    writable[name] = micros;
  }
  if (run.empirical_policy) fields.empirical_policy = policy(run.empirical_policy as Partial<Policy>);
  return fields;
}

/** What `event` (validated, `occurred` in µs) says about a task run, or null when it says nothing. */
export function taskRunObservation(event: Event, occurred: number): TaskRunObservation | null {
  try {
    return observe(event, occurred);
  } catch {
    return null; // a payload shape nobody foresaw: no observation, never a failed batch
  }
}

function observe(event: Event, occurred: number): TaskRunObservation | null {
  if (!event.event.startsWith('prefect.task-run')) return null;
  if (event.resource['prefect.orchestration'] !== 'client') return null;
  const id = objectId(event.resource['prefect.resource.id'], 'prefect.task-run');
  if (id === null) return null;
  let flowRunId: string | null = null;
  const flowRun = (event.related ?? []).find((r) => r['prefect.resource.role'] === 'flow-run');
  if (flowRun !== undefined) {
    flowRunId = objectId(flowRun['prefect.resource.id'], 'prefect.flow-run');
    if (flowRunId === null) return null;
  }
  const payload = event.payload ?? {};
  const stateIn = validate(ValidatedState, payload.validated_state, []);
  const runIn = validate(ObservedRun, payload.task_run, []);
  if (stateIn.issues.length > 0 || runIn.issues.length > 0) return null;
  const fields = fieldsOf(runIn.value as ObservedRun);
  if (fields === null) return null;
  const given = stateIn.value as Static<typeof ValidatedState>;
  const state = buildState(
    { type: given.type, name: given.name ?? undefined, message: given.message, data: given.data, state_details: given.state_details ?? undefined },
    occurred,
    { flowRunId, taskRunId: id },
  );
  state.id = event.id;
  return { id, flow_run_id: flowRunId, fields, state };
}
