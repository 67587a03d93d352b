/**
 * The two ways a task run changes without a task-run route, as rules both backends apply inside
 * their write transactions:
 *
 * - `observedTaskRun`: a `prefect.task-run.*` event (as a TaskRunObservation) upserts its run, as
 *   Prefect's task-run recorder does. A run not stored yet is created from the event; a stored one
 *   takes the event's fields and state only when the event's state is newer than the stored one,
 *   so a late or repeated event never moves a run backwards. The times and counts come from the
 *   client's payload (the client computed them), not from a state transition here.
 * - `parentTaskRunInState`: when a sub-flow run changes state, the task run that started it (its
 *   `parent_task_run_id`) moves to a fresh copy of that state, as Prefect's server does
 *   (`UpdateSubflowParentTask`): new id and time, `child_flow_run_id` pointing at the sub-flow.
 */
import type { StateRecord, TaskRunRecord } from './companion-records.ts';
import type { TaskRunObservation } from './contract.ts';
import { newId } from './ids.ts';
import { taskRunPolicyDefaults } from './policies.ts';
import { applyState, noState } from './states.ts';

/** The record to write for `observation`, or undefined when the stored run is as new or newer. */
export function observedTaskRun(existing: TaskRunRecord | undefined, observation: TaskRunObservation, now: number): TaskRunRecord | undefined {
  const { state, fields } = observation;
  if (existing && existing.state !== null && existing.state.timestamp >= state.timestamp) return undefined;
  const base: TaskRunRecord = existing ?? {
    id: observation.id,
    created: now,
    updated: now,
    name: '',
    flow_run_id: observation.flow_run_id,
    task_key: '',
    dynamic_key: '',
    cache_key: null,
    cache_expiration: null,
    task_version: null,
    empirical_policy: taskRunPolicyDefaults({}),
    tags: [],
    task_inputs: {},
    flow_run_run_count: 0,
    labels: {},
    ...noState(),
  };
  const record: TaskRunRecord = { ...base, ...fields, updated: now };
  if (observation.flow_run_id !== null) record.flow_run_id = observation.flow_run_id;
  record.state = { ...state, state_details: { ...state.state_details, task_run_id: record.id, flow_run_id: record.flow_run_id } };
  record.state_id = state.id;
  record.state_type = state.type;
  record.state_name = state.name;
  record.next_scheduled_start_time = state.type === 'SCHEDULED' ? state.state_details.scheduled_time : null;
  return record;
}

/** The parent task run `task` moved to a copy of its sub-flow run's new `state`. */
export function parentTaskRunInState(task: TaskRunRecord, state: StateRecord, subflowRunId: string, now: number): TaskRunRecord {
  const copy: StateRecord = {
    ...state,
    id: newId(),
    timestamp: now,
    state_details: { ...state.state_details, flow_run_id: task.flow_run_id, task_run_id: task.id, child_flow_run_id: subflowRunId },
  };
  const record: TaskRunRecord = { ...task, updated: now };
  applyState(record, copy, { countResumingRuns: true, resuming: false });
  return record;
}
