/**
 * What the store keeps for flows, flow runs, task runs and deployments, and the JSON a client
 * reads for each (field order as Prefect 3.0.0 emits it). Timestamps are µs since the epoch.
 */
import { formatMicros, nowMicros } from '../time.ts';
import { Float, toJson } from './json.ts';

type Micros = number;
type JsonObject = Record<string, unknown>;

const time = (t: Micros | null) => (t === null ? null : formatMicros(t));

export interface FlowRecord {
  id: string;
  created: Micros;
  updated: Micros;
  name: string;
  tags: string[];
  labels: JsonObject;
}

export function flowJson(f: FlowRecord): string {
  return toJson({ id: f.id, created: time(f.created), updated: time(f.updated), name: f.name, tags: f.tags, labels: f.labels });
}

export interface StateDetails {
  flow_run_id: string | null;
  task_run_id: string | null;
  child_flow_run_id: string | null;
  scheduled_time: Micros | null;
  cache_key: string | null;
  cache_expiration: Micros | null;
  deferred: boolean;
  untrackable_result: boolean;
  pause_timeout: Micros | null;
  pause_reschedule: boolean;
  pause_key: string | null;
  run_input_keyset: Record<string, string> | null;
  refresh_cache: boolean | null;
  retriable: boolean | null;
  transition_id: string | null;
  task_parameters_id: string | null;
}

export interface StateRecord {
  id: string;
  type: string;
  name: string;
  timestamp: Micros;
  message: string | null;
  data: unknown;
  state_details: StateDetails;
}

function stateView(s: StateRecord | null) {
  if (s === null) return null;
  const d = s.state_details;
  return {
    id: s.id,
    type: s.type,
    name: s.name,
    timestamp: time(s.timestamp),
    message: s.message,
    data: s.data,
    state_details: {
      ...d,
      scheduled_time: time(d.scheduled_time),
      cache_expiration: time(d.cache_expiration),
      pause_timeout: time(d.pause_timeout),
    },
  };
}

/** A state as clients read it (the `state` of a run, or of a `set_state` answer). */
export function stateJson(s: StateRecord | null): string {
  return toJson(stateView(s));
}

/** The state-derived columns that filters and sorts read (companions.md §1). */
export interface RunTimes {
  state_id: string | null;
  state_type: string | null;
  state_name: string | null;
  run_count: number;
  expected_start_time: Micros | null;
  next_scheduled_start_time: Micros | null;
  start_time: Micros | null;
  end_time: Micros | null;
  total_run_time: number; // seconds
  state: StateRecord | null;
}

const TERMINAL = new Set(['COMPLETED', 'CANCELLED', 'FAILED', 'CRASHED']);

/** Durations derived at read time: how long it has run, and how late it started. */
function estimates(r: RunTimes, now: Micros | null) {
  if (now === null) return { estimated_run_time: undefined, estimated_start_time_delta: undefined }; // left out
  const running = r.state_type === 'RUNNING' && r.state ? (now - r.state.timestamp) / 1e6 : 0;
  let late = 0;
  if (r.start_time !== null && r.expected_start_time !== null && r.start_time > r.expected_start_time) {
    late = (r.start_time - r.expected_start_time) / 1e6;
  } else if (r.start_time === null && !TERMINAL.has(r.state_type ?? '') && r.expected_start_time !== null && r.expected_start_time < now) {
    late = (now - r.expected_start_time) / 1e6;
  }
  return { estimated_run_time: new Float(r.total_run_time + running), estimated_start_time_delta: new Float(late) };
}

export interface FlowRunPolicy {
  max_retries: number;
  retry_delay_seconds: number;
  retries: number | null;
  retry_delay: number | null;
  pause_keys: unknown[];
  resuming: boolean;
}

export interface FlowRunRecord extends RunTimes {
  id: string;
  created: Micros;
  updated: Micros;
  name: string;
  flow_id: string;
  deployment_id: string | null;
  deployment_version: string | null;
  work_queue_name: string | null;
  flow_version: string | null;
  parameters: JsonObject;
  idempotency_key: string | null;
  context: JsonObject;
  empirical_policy: FlowRunPolicy;
  tags: string[];
  parent_task_run_id: string | null;
  auto_scheduled: boolean;
  infrastructure_document_id: string | null;
  infrastructure_pid: string | null;
  work_pool_name: string | null;
  job_variables: JsonObject;
  labels: JsonObject;
}

/** `now` null leaves out the read-time estimates (exports: the same store gives the same file). */
export function flowRunJson(r: FlowRunRecord, now: Micros | null = nowMicros()): string {
  const { estimated_run_time, estimated_start_time_delta } = estimates(r, now);
  return toJson({
    id: r.id,
    created: time(r.created),
    updated: time(r.updated),
    name: r.name,
    flow_id: r.flow_id,
    state_id: r.state_id,
    deployment_id: r.deployment_id,
    deployment_version: r.deployment_version,
    work_queue_id: null,
    work_queue_name: r.work_queue_name,
    flow_version: r.flow_version,
    parameters: r.parameters,
    idempotency_key: r.idempotency_key,
    context: r.context,
    empirical_policy: { ...r.empirical_policy, retry_delay_seconds: new Float(r.empirical_policy.retry_delay_seconds) },
    tags: r.tags,
    parent_task_run_id: r.parent_task_run_id,
    state_type: r.state_type,
    state_name: r.state_name,
    run_count: r.run_count,
    expected_start_time: time(r.expected_start_time),
    next_scheduled_start_time: time(r.next_scheduled_start_time),
    start_time: time(r.start_time),
    end_time: time(r.end_time),
    total_run_time: new Float(r.total_run_time),
    estimated_run_time,
    estimated_start_time_delta,
    auto_scheduled: r.auto_scheduled,
    infrastructure_document_id: r.infrastructure_document_id,
    infrastructure_pid: r.infrastructure_pid,
    created_by: null,
    work_pool_id: null,
    work_pool_name: r.work_pool_name,
    state: stateView(r.state),
    job_variables: r.job_variables,
    labels: r.labels,
  });
}

export interface TaskRunPolicy {
  max_retries: number;
  retry_delay_seconds: number;
  retries: number | null;
  retry_delay: number | number[] | null;
  retry_jitter_factor: number | null;
}

export interface TaskRunRecord extends RunTimes {
  id: string;
  created: Micros;
  updated: Micros;
  name: string;
  flow_run_id: string | null;
  task_key: string;
  dynamic_key: string;
  cache_key: string | null;
  cache_expiration: Micros | null;
  task_version: string | null;
  empirical_policy: TaskRunPolicy;
  tags: string[];
  task_inputs: Record<string, JsonObject[]>;
  flow_run_run_count: number;
  labels: JsonObject;
}

export function taskRunJson(r: TaskRunRecord, now: Micros | null = nowMicros()): string {
  const { estimated_run_time, estimated_start_time_delta } = estimates(r, now);
  const policy = r.empirical_policy;
  return toJson({
    id: r.id,
    created: time(r.created),
    updated: time(r.updated),
    name: r.name,
    flow_run_id: r.flow_run_id,
    task_key: r.task_key,
    dynamic_key: r.dynamic_key,
    cache_key: r.cache_key,
    cache_expiration: time(r.cache_expiration),
    task_version: r.task_version,
    empirical_policy: {
      ...policy,
      retry_delay_seconds: new Float(policy.retry_delay_seconds),
      retry_jitter_factor: policy.retry_jitter_factor === null ? null : new Float(policy.retry_jitter_factor),
    },
    tags: r.tags,
    state_id: r.state_id,
    task_inputs: r.task_inputs,
    state_type: r.state_type,
    state_name: r.state_name,
    run_count: r.run_count,
    flow_run_run_count: r.flow_run_run_count,
    expected_start_time: time(r.expected_start_time),
    next_scheduled_start_time: time(r.next_scheduled_start_time),
    start_time: time(r.start_time),
    end_time: time(r.end_time),
    total_run_time: new Float(r.total_run_time),
    estimated_run_time,
    estimated_start_time_delta,
    state: stateView(r.state),
    labels: r.labels,
  });
}

export interface DeploymentRecord {
  id: string;
  created: Micros;
  updated: Micros;
  name: string;
  version: string | null;
  description: string | null;
  flow_id: string;
  paused: boolean;
  schedules: unknown[];
  concurrency_limit: number | null;
  job_variables: JsonObject;
  parameters: JsonObject;
  tags: string[];
  work_queue_name: string | null;
  parameter_openapi_schema: JsonObject | null;
  path: string | null;
  pull_steps: JsonObject[] | null;
  entrypoint: string | null;
  work_pool_name: string | null;
  enforce_parameter_schema: boolean;
}

export function deploymentJson(d: DeploymentRecord): string {
  return toJson({
    id: d.id,
    created: time(d.created),
    updated: time(d.updated),
    name: d.name,
    version: d.version,
    description: d.description,
    flow_id: d.flow_id,
    paused: d.paused,
    schedules: d.schedules,
    concurrency_limit: d.concurrency_limit,
    job_variables: d.job_variables,
    parameters: d.parameters,
    tags: d.tags,
    work_queue_name: d.work_queue_name,
    last_polled: null,
    parameter_openapi_schema: d.parameter_openapi_schema,
    path: d.path,
    pull_steps: d.pull_steps,
    entrypoint: d.entrypoint,
    storage_document_id: null,
    infrastructure_document_id: null,
    created_by: null,
    updated_by: null,
    work_pool_name: d.work_pool_name,
    status: 'NOT_READY',
    enforce_parameter_schema: d.enforce_parameter_schema,
  });
}
