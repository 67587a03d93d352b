/**
 * New and changed flow, flow run, task run and deployment records, built from validated input:
 * the backend-neutral half of every companion write. A backend checks its rules (the flow
 * exists, a name is taken) and stores what these return; LMDB and PostgreSQL then write the
 * same records for the same requests.
 */
import type { FlowRunCreateInput } from './contract.ts';
import type { DeploymentCreate, DeploymentFlowRunCreate, FlowCreate, FlowRunUpdate, StateCreate, TaskRunCreate } from '../schemas/companions.ts';
import { nowMicros } from '../time.ts';
import { parametersProblem } from '../validation/parameters.ts';
import type { DeploymentRecord, FlowRecord, FlowRunPolicy, FlowRunRecord, TaskRunPolicy, TaskRunRecord } from './companion-records.ts';
import { newId } from './ids.ts';
import { flowRunPolicy, taskRunPolicyDefaults } from './policies.ts';
import { INTEGRITY_CONFLICT, Refusal } from './refusal.ts';
import { randomRunName } from './slugs.ts';
import { applyState, buildState, noState } from './states.ts';
import { parseDateTime } from '../validation/datetime.ts';

/** A new flow run's fields, once defaults are applied (from FlowRunCreate or a deployment). */
export type NewFlowRun = FlowRunCreateInput;

/** Upstream creates work queues in this pool when a deployment names a queue but no pool. */
const DEFAULT_POOL = 'default-agent-pool';

export function newFlowRecord(input: FlowCreate): FlowRecord {
  const created = nowMicros();
  // Prefect stamps `updated` separately, a moment after `created`.
  return { id: newId(), created, updated: nowMicros(), name: input.name, tags: input.tags ?? [], labels: input.labels ?? {} };
}

/** A flow with its tags replaced (when given) and `updated` stamped. */
export const updatedFlow = (flow: FlowRecord, tags: string[] | undefined): FlowRecord => ({ ...flow, tags: tags ?? flow.tags, updated: nowMicros() });

/** A new flow run in its first state (the caller has checked its flow, parent and idempotency key). */
export function newFlowRunRecord(input: NewFlowRun): FlowRunRecord {
  const now = nowMicros();
  const id = newId();
  const record: FlowRunRecord = {
    id,
    created: now,
    updated: now,
    name: input.name || randomRunName(),
    flow_id: input.flow_id,
    deployment_id: input.deployment_id ?? null,
    deployment_version: input.deployment_version ?? null,
    work_queue_name: input.work_queue_name ?? null,
    flow_version: input.flow_version ?? null,
    parameters: input.parameters ?? {},
    idempotency_key: input.idempotency_key ?? null,
    context: input.context ?? {},
    empirical_policy: flowRunPolicy(input.empirical_policy as Partial<FlowRunPolicy>),
    tags: input.tags ?? [],
    parent_task_run_id: input.parent_task_run_id ?? null,
    auto_scheduled: false,
    infrastructure_document_id: null,
    infrastructure_pid: null,
    work_pool_name: input.work_pool_name ?? null,
    job_variables: input.job_variables ?? {},
    labels: input.labels ?? {},
    ...noState(),
  };
  const state = buildState(input.state, now, { flowRunId: id, taskRunId: null });
  applyState(record, state, { countResumingRuns: false, resuming: record.empirical_policy.resuming });
  return record;
}

/** A flow run forced into a new state (`set_state`). */
export function flowRunInState(old: FlowRunRecord, input: StateCreate): FlowRunRecord {
  const now = nowMicros();
  const run: FlowRunRecord = { ...old, updated: now };
  applyState(run, buildState(input, now, { flowRunId: old.id, taskRunId: null }), {
    countResumingRuns: false,
    resuming: run.empirical_policy.resuming,
  });
  return run;
}

/** A flow run with a PATCH applied. */
export function patchedFlowRun(old: FlowRunRecord, patch: FlowRunUpdate): FlowRunRecord {
  const run: FlowRunRecord = { ...old, updated: nowMicros() };
  if (patch.name != null) run.name = patch.name;
  if ('flow_version' in patch) run.flow_version = patch.flow_version ?? null;
  if (patch.parameters) run.parameters = patch.parameters;
  if (patch.empirical_policy) run.empirical_policy = flowRunPolicy(patch.empirical_policy as Partial<FlowRunPolicy>);
  if (patch.tags) run.tags = patch.tags;
  if ('infrastructure_pid' in patch) run.infrastructure_pid = patch.infrastructure_pid ?? null;
  if (patch.job_variables) run.job_variables = patch.job_variables;
  return run;
}

/** A new task run in its first state, under `id` (the client's or a fresh one). */
export function newTaskRunRecord(input: TaskRunCreate, id: string = input.id ?? newId()): TaskRunRecord {
  const now = nowMicros();
  const flowRunId = input.flow_run_id ?? null;
  const policy = taskRunPolicyDefaults((input.empirical_policy ?? {}) as Partial<TaskRunPolicy>);
  if (!policy.retries && policy.max_retries !== 0) policy.retries = policy.max_retries;
  if (!policy.retry_delay && policy.retry_delay_seconds !== 0) policy.retry_delay = policy.retry_delay_seconds;
  const record: TaskRunRecord = {
    id,
    created: now,
    updated: now,
    name: input.name || randomRunName(),
    flow_run_id: flowRunId,
    task_key: input.task_key,
    dynamic_key: input.dynamic_key,
    cache_key: input.cache_key ?? null,
    cache_expiration: input.cache_expiration ? (parseDateTime(input.cache_expiration) ?? null) : null,
    task_version: input.task_version ?? null,
    empirical_policy: policy,
    tags: input.tags ?? [],
    task_inputs: (input.task_inputs ?? {}) as TaskRunRecord['task_inputs'],
    flow_run_run_count: 0,
    labels: input.labels ?? {},
    ...noState(),
  };
  applyState(record, buildState(input.state, now, { flowRunId, taskRunId: id }), { countResumingRuns: true, resuming: false });
  return record;
}

/**
 * A deployment's refusals that need no stored data (a work pool, block documents); the flow's
 * existence is the backend's to check, after the work pool and before the block documents.
 */
export function deploymentRefusal(input: DeploymentCreate, flowExists: boolean): Refusal | undefined {
  if (input.work_pool_name) return new Refusal('not_found', `Work pool "${input.work_pool_name}" not found.`);
  if (!flowExists) return new Refusal('conflict', INTEGRITY_CONFLICT);
  if (input.storage_document_id || input.infrastructure_document_id) {
    return new Refusal('conflict', 'Error creating deployment: this server stores no block documents, so storage_document_id and infrastructure_document_id must be null.');
  }
  return undefined;
}

/** The deployment a create writes: a new one, or `existing` (same flow and name) overwritten. */
export function deploymentRecord(input: DeploymentCreate, existing: DeploymentRecord | undefined): DeploymentRecord {
  const now = nowMicros();
  return {
    id: existing?.id ?? newId(),
    created: existing?.created ?? now,
    updated: now,
    name: input.name,
    version: input.version ?? null,
    description: input.description ?? null,
    flow_id: input.flow_id,
    paused: input.paused ?? false,
    schedules: input.schedules ?? [],
    concurrency_limit: input.concurrency_limit ?? null,
    job_variables: input.job_variables ?? {},
    parameters: input.parameters ?? {},
    tags: input.tags ?? [],
    work_queue_name: input.work_queue_name ?? null,
    parameter_openapi_schema: input.parameter_openapi_schema ?? null,
    path: input.path ?? null,
    pull_steps: input.pull_steps ?? null,
    entrypoint: input.entrypoint ?? null,
    work_pool_name: input.work_queue_name ? DEFAULT_POOL : null,
    enforce_parameter_schema: input.enforce_parameter_schema ?? true,
  };
}

/**
 * The flow run a deployment's `create_flow_run` asks for, or the refusal of its parameters
 * (Prefect's schema rule for runs of a deployment).
 */
export function deploymentFlowRun(deployment: DeploymentRecord, input: DeploymentFlowRunCreate): NewFlowRun | Refusal {
  const parameters = { ...deployment.parameters, ...(input.parameters ?? {}) };
  const enforce = input.enforce_parameter_schema ?? deployment.enforce_parameter_schema;
  if (enforce) {
    const problem = parameterProblem(deployment.parameter_openapi_schema, parameters);
    if (problem) return new Refusal('conflict', problem);
  }
  return {
    flow_id: deployment.flow_id,
    deployment_id: deployment.id,
    deployment_version: deployment.version,
    name: input.name,
    parameters,
    context: input.context,
    empirical_policy: input.empirical_policy,
    tags: [...new Set([...deployment.tags, ...(input.tags ?? [])])],
    idempotency_key: input.idempotency_key,
    parent_task_run_id: input.parent_task_run_id,
    infrastructure_document_id: input.infrastructure_document_id,
    work_queue_name: input.work_queue_name ?? deployment.work_queue_name,
    work_pool_name: deployment.work_pool_name,
    job_variables: input.job_variables ?? undefined,
    state: input.state ?? { type: 'SCHEDULED' },
  };
}

/**
 * Prefect's parameter-schema rule for runs of a deployment: enforcement needs an object schema,
 * and the merged parameters must satisfy it, `required` included.
 */
function parameterProblem(schema: Record<string, unknown> | null, parameters: Record<string, unknown>): string | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    return 'Error updating deployment: Cannot update parameters because parameter schema enforcement is enabled and the deployment does not have a valid parameter schema.';
  }
  const problem = parametersProblem(schema, parameters, { checkRequired: true });
  return problem === undefined ? undefined : `Error creating flow run: ${problem}`;
}
