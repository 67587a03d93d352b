/**
 * Flows, flow runs, task runs and deployments: the minimal Prefect 3.0.0 subset that gives the
 * artifact run filters something to match (`shared/spec/companions.md`). Action models forbid
 * unknown keys; the policy and state-detail objects ignore them, as upstream does. Fields that
 * newer (HEAD) clients send and 3.0.0 rejects — `labels`, and `work_queue_name`,
 * `work_pool_name`, `job_variables` on flow runs — are accepted (README lists them).
 */
import type { Static } from '@sinclair/typebox';
import { DateTime, Opt, StateType, StringEnum, t, Uuid } from './common.ts';

const JsonObject = (options: object = {}) => t.Record(t.String(), t.Unknown(), options);
const Tags = () => t.Optional(t.Array(t.String(), { title: 'Tags' }));
const Labels = () => t.Optional(JsonObject({ title: 'Labels', description: 'Key-value labels (newer Prefect clients send them).' }));

/** Names that must not contain `/ % & > <` (Prefect's `Name` type). */
const NAME_PATTERN = '^[^/%&><]+$';
export const Name = (options: object = {}) => t.String({ pattern: NAME_PATTERN, ...options });

// ── States ─────────────────────────────────────────────────────────────────────────────────

export const StateDetailsInput = t.Object(
  {
    flow_run_id: Opt(Uuid()),
    task_run_id: Opt(Uuid()),
    child_flow_run_id: Opt(Uuid()),
    scheduled_time: Opt(DateTime()),
    cache_key: Opt(t.String()),
    cache_expiration: Opt(DateTime()),
    deferred: Opt(t.Boolean()),
    untrackable_result: Opt(t.Boolean()),
    pause_timeout: Opt(DateTime()),
    pause_reschedule: Opt(t.Boolean()),
    pause_key: Opt(t.String()),
    run_input_keyset: Opt(t.Record(t.String(), t.String())),
    refresh_cache: Opt(t.Boolean()),
    retriable: Opt(t.Boolean()),
    transition_id: Opt(Uuid()),
    task_parameters_id: Opt(Uuid()),
  },
  { $id: 'StateDetails', title: 'StateDetails', description: 'Details of a state; unknown keys are ignored.' },
);

export const StateCreate = t.Object(
  {
    type: StateType,
    name: Opt(t.String()),
    message: Opt(t.String()),
    data: t.Optional(t.Unknown()),
    state_details: t.Optional(StateDetailsInput),
  },
  { $id: 'StateCreate', title: 'StateCreate', additionalProperties: false, description: 'A new state; the server stamps its time.' },
);

// ── Flows ──────────────────────────────────────────────────────────────────────────────────

export const FlowCreate = t.Object(
  { name: Name({ title: 'Name' }), tags: Tags(), labels: Labels() },
  { $id: 'FlowCreate', title: 'FlowCreate', additionalProperties: false, description: 'Creates a flow, or returns the one with this name.' },
);

export const FlowUpdate = t.Object(
  { tags: Tags() },
  { $id: 'FlowUpdate', title: 'FlowUpdate', additionalProperties: false },
);

// ── Policies ───────────────────────────────────────────────────────────────────────────────

export const FlowRunPolicy = t.Object(
  {
    max_retries: t.Optional(t.Integer()),
    retry_delay_seconds: t.Optional(t.Number()),
    retries: Opt(t.Integer()),
    retry_delay: Opt(t.Integer()),
    pause_keys: Opt(t.Array(t.Unknown())),
    resuming: Opt(t.Boolean()),
  },
  { $id: 'FlowRunPolicy', title: 'FlowRunPolicy' },
);

export const TaskRunPolicy = t.Object(
  {
    max_retries: t.Optional(t.Integer()),
    retry_delay_seconds: t.Optional(t.Number()),
    retries: Opt(t.Integer()),
    retry_delay: Opt(t.Union([t.Integer(), t.Array(t.Integer())]), { 'x-check': 'retry-delays' }),
    retry_jitter_factor: Opt(t.Number(), { 'x-check': 'jitter-not-negative' }),
  },
  { $id: 'TaskRunPolicy', title: 'TaskRunPolicy' },
);

// ── Flow runs ──────────────────────────────────────────────────────────────────────────────

export const FlowRunCreate = t.Object(
  {
    state: Opt(StateCreate),
    name: Opt(t.String()),
    flow_id: Uuid({ title: 'Flow Id' }),
    flow_version: Opt(t.String()),
    parameters: t.Optional(JsonObject()),
    context: t.Optional(JsonObject()),
    parent_task_run_id: Opt(Uuid()),
    infrastructure_document_id: Opt(Uuid()),
    empirical_policy: t.Optional(FlowRunPolicy),
    tags: Tags(),
    idempotency_key: Opt(t.String()),
    deployment_id: Opt(Uuid()),
    labels: Labels(),
    work_pool_name: Opt(t.String()),
    work_queue_name: Opt(t.String()),
    job_variables: Opt(JsonObject()),
  },
  { $id: 'FlowRunCreate', title: 'FlowRunCreate', additionalProperties: false, description: 'Creates a flow run.' },
);

export const FlowRunUpdate = t.Object(
  {
    name: Opt(t.String()),
    flow_version: Opt(t.String()),
    parameters: t.Optional(JsonObject()),
    empirical_policy: t.Optional(FlowRunPolicy),
    tags: Tags(),
    infrastructure_pid: Opt(t.String()),
    job_variables: Opt(JsonObject()),
  },
  { $id: 'FlowRunUpdate', title: 'FlowRunUpdate', additionalProperties: false },
);

export const SetState = t.Object(
  { state: StateCreate, force: t.Optional(t.Boolean({ default: false })) },
  { $id: 'Body_set_flow_run_state', title: 'Body_set_flow_run_state' },
);

// ── Task runs ──────────────────────────────────────────────────────────────────────────────

const TaskInput = t.Object(
  {
    input_type: StringEnum(['task_run', 'parameter', 'constant'] as const),
    id: t.Optional(Uuid()),
    name: t.Optional(t.String()),
    type: t.Optional(t.String()),
  },
  { title: 'TaskRunInput' },
);

export const TaskRunCreate = t.Object(
  {
    id: Opt(Uuid()),
    state: Opt(StateCreate),
    name: Opt(t.String()),
    flow_run_id: Opt(Uuid()),
    task_key: t.String({ title: 'Task Key' }),
    dynamic_key: t.String({ title: 'Dynamic Key' }),
    cache_key: Opt(t.String({ 'x-check': 'cache-key-length' })),
    cache_expiration: Opt(DateTime()),
    task_version: Opt(t.String()),
    empirical_policy: t.Optional(TaskRunPolicy),
    tags: Tags(),
    task_inputs: t.Optional(t.Record(t.String(), t.Array(TaskInput))),
    labels: Labels(),
  },
  { $id: 'TaskRunCreate', title: 'TaskRunCreate', additionalProperties: false, description: 'Creates a task run, or returns the one with the same keys.' },
);

// ── Deployments ────────────────────────────────────────────────────────────────────────────

export const DeploymentCreate = t.Object(
  {
    name: Name({ title: 'Name' }),
    flow_id: Uuid({ title: 'Flow Id' }),
    paused: t.Optional(t.Boolean()),
    schedules: t.Optional(t.Array(t.Unknown())),
    concurrency_limit: Opt(t.Integer({ minimum: 0 })),
    enforce_parameter_schema: t.Optional(t.Boolean()),
    parameter_openapi_schema: Opt(JsonObject()),
    parameters: t.Optional(JsonObject()),
    tags: Tags(),
    pull_steps: Opt(t.Array(JsonObject())),
    work_queue_name: Opt(t.String()),
    work_pool_name: Opt(t.String()),
    storage_document_id: Opt(Uuid()),
    infrastructure_document_id: Opt(Uuid()),
    description: Opt(t.String()),
    path: Opt(t.String()),
    version: Opt(t.String()),
    entrypoint: Opt(t.String()),
    job_variables: t.Optional(JsonObject()),
  },
  { $id: 'DeploymentCreate', title: 'DeploymentCreate', additionalProperties: false, description: 'Creates a deployment, or overwrites the one with this flow and name.' },
);

/** Legacy keys Prefect drops silently from deployment bodies. */
export const LEGACY_DEPLOYMENT_KEYS = ['worker_pool_queue_id', 'worker_pool_name', 'worker_pool_queue_name', 'work_pool_queue_name'];

export const DeploymentFlowRunCreate = t.Object(
  {
    state: Opt(StateCreate),
    name: Opt(t.String()),
    parameters: t.Optional(JsonObject()),
    enforce_parameter_schema: Opt(t.Boolean()),
    context: t.Optional(JsonObject()),
    infrastructure_document_id: Opt(Uuid()),
    empirical_policy: t.Optional(FlowRunPolicy),
    tags: Tags(),
    idempotency_key: Opt(t.String()),
    parent_task_run_id: Opt(Uuid()),
    work_queue_name: Opt(t.String()),
    job_variables: Opt(JsonObject()),
  },
  { $id: 'DeploymentFlowRunCreate', title: 'DeploymentFlowRunCreate', additionalProperties: false, description: 'Creates a flow run of a deployment.' },
);

// ── Sorts ──────────────────────────────────────────────────────────────────────────────────

export const FlowSort = StringEnum(['CREATED_DESC', 'UPDATED_DESC', 'NAME_ASC', 'NAME_DESC'] as const, { $id: 'FlowSort', title: 'FlowSort' });
export const DeploymentSort = StringEnum(['CREATED_DESC', 'UPDATED_DESC', 'NAME_ASC', 'NAME_DESC'] as const, {
  $id: 'DeploymentSort',
  title: 'DeploymentSort',
});
export const FlowRunSort = StringEnum(
  [
    'ID_DESC',
    'START_TIME_ASC',
    'START_TIME_DESC',
    'EXPECTED_START_TIME_ASC',
    'EXPECTED_START_TIME_DESC',
    'NAME_ASC',
    'NAME_DESC',
    'NEXT_SCHEDULED_START_TIME_ASC',
    'END_TIME_DESC',
  ] as const,
  { $id: 'FlowRunSort', title: 'FlowRunSort' },
);
export const TaskRunSort = StringEnum(
  [
    'ID_DESC',
    'EXPECTED_START_TIME_ASC',
    'EXPECTED_START_TIME_DESC',
    'NAME_ASC',
    'NAME_DESC',
    'NEXT_SCHEDULED_START_TIME_ASC',
    'END_TIME_DESC',
  ] as const,
  { $id: 'TaskRunSort', title: 'TaskRunSort' },
);

export type FlowCreate = Static<typeof FlowCreate>;
export type FlowRunCreate = Static<typeof FlowRunCreate>;
export type FlowRunUpdate = Static<typeof FlowRunUpdate>;
export type TaskRunCreate = Static<typeof TaskRunCreate>;
export type DeploymentCreate = Static<typeof DeploymentCreate>;
export type DeploymentFlowRunCreate = Static<typeof DeploymentFlowRunCreate>;
export type StateCreate = Static<typeof StateCreate>;

