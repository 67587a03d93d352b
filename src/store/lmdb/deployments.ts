/**
 * Deployments: create-or-overwrite by (flow, name), delete (with the deployment's SCHEDULED
 * runs), and creating a flow run from a deployment.
 */
import { newId } from '../ids.ts';
import type { DeploymentCreate, DeploymentFlowRunCreate } from '../../schemas/companions.ts';
import { nowMicros } from '../../time.ts';
import { parametersProblem } from '../../validation/parameters.ts';
import type { DeploymentRecord, FlowRunRecord } from '../companion-records.ts';
import { durably } from './durable.ts';
import { INTEGRITY_CONFLICT, Refusal } from '../refusal.ts';
import type { StoreDbs } from './env.ts';
import type { FlowRunStore } from './flow-runs.ts';
import { deploymentIdsOfFlow, deploymentKey, flowRunIdsOfDeployment, putDeployment, removeDeployment, removeFlowRun } from './rows.ts';

/** Upstream creates work queues in this pool when a deployment names a queue but no pool. */
const DEFAULT_POOL = 'default-agent-pool';

export class DeploymentStore {
  constructor(
    private readonly dbs: StoreDbs,
    private readonly flowRuns: FlowRunStore,
  ) {}

  get(id: string): DeploymentRecord | undefined {
    return this.dbs.deployments.get(id);
  }

  /** The deployments of one flow. */
  ofFlow(flowId: string): DeploymentRecord[] {
    return deploymentIdsOfFlow(this.dbs, flowId).map((id) => this.dbs.deployments.get(id)!);
  }

  all(): Iterable<DeploymentRecord> {
    return this.dbs.deployments.getRange({}).map(({ value }) => value);
  }

  /** A deployment with the same flow and name is overwritten with the submitted values. */
  create(input: DeploymentCreate): Promise<{ record: DeploymentRecord; created: boolean }> {
    return durably(this.dbs.env, () => {
      const { dbs } = this;
      if (input.work_pool_name) return new Refusal('not_found', `Work pool "${input.work_pool_name}" not found.`);
      if (!dbs.flows.get(input.flow_id)) return new Refusal('conflict', INTEGRITY_CONFLICT);
      if (input.storage_document_id || input.infrastructure_document_id) {
        return new Refusal('conflict', 'Error creating deployment: this server stores no block documents, so storage_document_id and infrastructure_document_id must be null.');
      }
      const existingId = dbs.deploymentsByFlowName.get(deploymentKey(input.flow_id, input.name));
      const existing = existingId === undefined ? undefined : dbs.deployments.get(existingId);
      const now = nowMicros();
      const record: DeploymentRecord = {
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
      putDeployment(dbs, record, !existing);
      return { record, created: !existing };
    });
  }

  /** Deletes the deployment and those of its runs that are still SCHEDULED. */
  delete(id: string): Promise<boolean> {
    return durably(this.dbs.env, () => {
      const deployment = this.get(id);
      if (!deployment) return false;
      for (const runId of flowRunIdsOfDeployment(this.dbs, id)) {
        const run = this.dbs.flowRuns.get(runId);
        if (run?.state_type === 'SCHEDULED') removeFlowRun(this.dbs, run);
      }
      removeDeployment(this.dbs, deployment);
      return true;
    });
  }

  createFlowRun(id: string, input: DeploymentFlowRunCreate): Promise<{ record: FlowRunRecord; created: boolean }> {
    return durably(this.dbs.env, () => {
      const deployment = this.get(id);
      if (!deployment) return new Refusal('not_found', 'Deployment not found');
      const parameters = { ...deployment.parameters, ...(input.parameters ?? {}) };
      const enforce = input.enforce_parameter_schema ?? deployment.enforce_parameter_schema;
      if (enforce) {
        const problem = parameterProblem(deployment.parameter_openapi_schema, parameters);
        if (problem) return new Refusal('conflict', problem);
      }
      return this.flowRuns.insert({
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
      });
    });
  }
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
