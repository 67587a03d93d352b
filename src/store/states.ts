/**
 * Run states: building a state from a client's `StateCreate`, and the denormalized run fields a
 * new state moves (`shared/spec/companions.md` §1, Prefect's global orchestration policy).
 * Creation and `set_state` force the state; no other orchestration rule applies here.
 */
import { newId } from './ids.ts';
import type { StateCreate } from '../schemas/companions.ts';
import { parseDateTime } from '../validation/datetime.ts';
import type { RunTimes, StateDetails, StateRecord } from './companion-records.ts';

const TERMINAL = new Set(['COMPLETED', 'CANCELLED', 'FAILED', 'CRASHED']);

const micros = (value: unknown) => (typeof value === 'string' ? (parseDateTime(value) ?? null) : null);
const or = <T>(value: T | null | undefined, fallback: T) => (value === null || value === undefined ? fallback : value);

/** "PENDING" → "Pending", "NOT_READY" → "Not Ready": Prefect's default state names. */
export function defaultStateName(type: string): string {
  return type
    .split('_')
    .map((w) => w.charAt(0) + w.slice(1).toLowerCase())
    .join(' ');
}

export function buildState(
  input: StateCreate | null | undefined,
  now: number,
  owner: { flowRunId: string | null; taskRunId: string | null },
): StateRecord {
  const type = input?.type ?? 'PENDING';
  const d = (input?.state_details ?? {}) as Record<string, unknown>;
  const details: StateDetails = {
    flow_run_id: owner.flowRunId,
    task_run_id: owner.taskRunId,
    child_flow_run_id: or(d.child_flow_run_id as string, null),
    scheduled_time: micros(d.scheduled_time) ?? (type === 'SCHEDULED' ? now : null),
    cache_key: or(d.cache_key as string, null),
    cache_expiration: micros(d.cache_expiration),
    deferred: or(d.deferred as boolean, false),
    untrackable_result: or(d.untrackable_result as boolean, false),
    pause_timeout: micros(d.pause_timeout),
    pause_reschedule: or(d.pause_reschedule as boolean, false),
    pause_key: or(d.pause_key as string, null),
    run_input_keyset: or(d.run_input_keyset as Record<string, string>, null),
    refresh_cache: or(d.refresh_cache as boolean, null),
    retriable: or(d.retriable as boolean, null),
    transition_id: or(d.transition_id as string, null),
    task_parameters_id: or(d.task_parameters_id as string, null),
  };
  return {
    id: newId(),
    type,
    name: input?.name ?? defaultStateName(type),
    timestamp: now,
    message: input?.message ?? null,
    data: input?.data ?? null,
    state_details: details,
  };
}

/** Moves a run to `state`, updating the fields derived from its state history. */
export function applyState(run: RunTimes, state: StateRecord, options: { countResumingRuns: boolean; resuming: boolean }): void {
  const previous = run.state;
  const wasRunning = previous?.type === 'RUNNING';
  const entersRunning = state.type === 'RUNNING' && !wasRunning;

  if (wasRunning && state.type !== 'RUNNING' && previous) {
    run.total_run_time += (state.timestamp - previous.timestamp) / 1e6;
  }
  if (entersRunning && (options.countResumingRuns || !options.resuming)) run.run_count += 1;
  if (state.type === 'RUNNING' && run.start_time === null) run.start_time = state.timestamp;
  if (TERMINAL.has(state.type)) {
    if (run.start_time !== null && run.end_time === null) run.end_time = state.timestamp;
  } else if (previous && TERMINAL.has(previous.type)) {
    run.end_time = null;
  }
  const scheduled = state.state_details.scheduled_time;
  if (run.expected_start_time === null) {
    run.expected_start_time = state.type === 'SCHEDULED' ? (scheduled ?? state.timestamp) : state.timestamp;
  }
  run.next_scheduled_start_time = state.type === 'SCHEDULED' ? scheduled : null;
  run.state_id = state.id;
  run.state_type = state.type;
  run.state_name = state.name;
  run.state = state;
}

/** The state fields of a run that has none yet. */
export function noState(): RunTimes {
  return {
    state_id: null,
    state_type: null,
    state_name: null,
    run_count: 0,
    expected_start_time: null,
    next_scheduled_start_time: null,
    start_time: null,
    end_time: null,
    total_run_time: 0,
    state: null,
  };
}
