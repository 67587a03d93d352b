/**
 * Flow runs: create (with idempotency keys scoped per flow), state changes, updates, and delete
 * with the run's task runs.
 */
import { newId } from '../ids.ts';
import type { FlowRunCreate, FlowRunUpdate, StateCreate } from '../../schemas/companions.ts';
import { nowMicros } from '../../time.ts';
import type { FlowRunPolicy, FlowRunRecord } from '../companion-records.ts';
import { flowRunPolicy } from '../policies.ts';
import { durably } from './durable.ts';
import { INTEGRITY_CONFLICT, Refusal } from '../refusal.ts';
import type { StoreDbs } from './env.ts';
import { idempotencyKey, putFlowRun, removeFlowRun } from './rows.ts';
import { randomRunName } from '../slugs.ts';
import { applyState, buildState, noState } from '../states.ts';

/** A new flow run's fields, once defaults are applied (from FlowRunCreate or a deployment). */
export type NewFlowRun = FlowRunCreate & { deployment_version?: string | null };

export class FlowRunStore {
  constructor(private readonly dbs: StoreDbs) {}

  get(id: string): FlowRunRecord | undefined {
    return this.dbs.flowRuns.get(id);
  }

  all(): Iterable<FlowRunRecord> {
    return this.dbs.flowRuns.getRange({}).map(({ value }) => value);
  }

  create(input: NewFlowRun): Promise<{ record: FlowRunRecord; created: boolean }> {
    return durably(this.dbs.env, () => this.insert(input));
  }

  /**
   * The create logic, for use inside a write transaction (also by deployments' create_flow_run).
   * Refuses before writing anything.
   */
  insert(input: NewFlowRun): { record: FlowRunRecord; created: boolean } | Refusal {
    const { dbs } = this;
    if (!dbs.flows.get(input.flow_id)) return new Refusal('conflict', INTEGRITY_CONFLICT);
    if (input.parent_task_run_id && !dbs.taskRuns.get(input.parent_task_run_id)) return new Refusal('conflict', INTEGRITY_CONFLICT);
    if (input.infrastructure_document_id) return new Refusal('conflict', INTEGRITY_CONFLICT); // no block documents here
    const key = input.idempotency_key ?? null;
    if (key !== null) {
      const existingId = dbs.flowRunsByIdempotencyKey.get(idempotencyKey(input.flow_id, key));
      if (existingId !== undefined) {
        // An empty key is stored but never looked up, so a second one violates uniqueness.
        if (key === '') return new Refusal('conflict', INTEGRITY_CONFLICT);
        return { record: dbs.flowRuns.get(existingId)!, created: false };
      }
    }
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
      idempotency_key: key,
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
    putFlowRun(dbs, record);
    return { record, created: true };
  }

  /** Forces a new state (what `set_state` with `force` does; no orchestration rules here). */
  setState(id: string, input: StateCreate): Promise<FlowRunRecord | undefined> {
    return durably(this.dbs.env, () => {
      const old = this.get(id);
      if (!old) return undefined;
      const now = nowMicros();
      const run: FlowRunRecord = { ...old, updated: now };
      applyState(run, buildState(input, now, { flowRunId: id, taskRunId: null }), {
        countResumingRuns: false,
        resuming: run.empirical_policy.resuming,
      });
      putFlowRun(this.dbs, run, old);
      return run;
    });
  }

  update(id: string, patch: FlowRunUpdate): Promise<boolean> {
    return durably(this.dbs.env, () => {
      const old = this.get(id);
      if (!old) return false;
      const run: FlowRunRecord = { ...old, updated: nowMicros() };
      if (patch.name != null) run.name = patch.name;
      if ('flow_version' in patch) run.flow_version = patch.flow_version ?? null;
      if (patch.parameters) run.parameters = patch.parameters;
      if (patch.empirical_policy) run.empirical_policy = flowRunPolicy(patch.empirical_policy as Partial<FlowRunPolicy>);
      if (patch.tags) run.tags = patch.tags;
      if ('infrastructure_pid' in patch) run.infrastructure_pid = patch.infrastructure_pid ?? null;
      if (patch.job_variables) run.job_variables = patch.job_variables;
      putFlowRun(this.dbs, run, old);
      return true;
    });
  }

  delete(id: string): Promise<boolean> {
    return durably(this.dbs.env, () => {
      const run = this.get(id);
      if (!run) return false;
      removeFlowRun(this.dbs, run);
      return true;
    });
  }
}
