/**
 * Task runs: create-or-fetch by (flow run, task key, dynamic key), an optional client-chosen id,
 * and delete.
 */
import { newId } from '../ids.ts';
import type { TaskRunCreate } from '../../schemas/companions.ts';
import { nowMicros } from '../../time.ts';
import { parseDateTime } from '../../validation/datetime.ts';
import type { TaskRunPolicy, TaskRunRecord } from '../companion-records.ts';
import { taskRunPolicyDefaults } from '../policies.ts';
import { durably } from './durable.ts';
import { INTEGRITY_CONFLICT, Refusal } from '../refusal.ts';
import type { StoreDbs } from './env.ts';
import { putTaskRun, removeTaskRun, taskRunIdByKeys } from './rows.ts';
import { randomRunName } from '../slugs.ts';
import { applyState, buildState, noState } from '../states.ts';

export class TaskRunStore {
  constructor(private readonly dbs: StoreDbs) {}

  get(id: string): TaskRunRecord | undefined {
    return this.dbs.taskRuns.get(id);
  }

  all(): Iterable<TaskRunRecord> {
    return this.dbs.taskRuns.getRange({}).map(({ value }) => value);
  }

  create(input: TaskRunCreate): Promise<{ record: TaskRunRecord; created: boolean }> {
    return durably(this.dbs.env, () => {
      const { dbs } = this;
      const keys = { flow_run_id: input.flow_run_id ?? null, task_key: input.task_key, dynamic_key: input.dynamic_key };
      if (keys.flow_run_id !== null && !dbs.flowRuns.get(keys.flow_run_id)) return new Refusal('conflict', INTEGRITY_CONFLICT);
      const existingId = taskRunIdByKeys(dbs, keys);
      if (existingId !== undefined) {
        // The same run again: returned as it is, whatever state or tags this request carries.
        if (!input.id || input.id === existingId) return { record: dbs.taskRuns.get(existingId)!, created: false };
        return new Refusal('conflict', INTEGRITY_CONFLICT);
      }
      if (input.id && dbs.taskRuns.get(input.id)) return new Refusal('conflict', INTEGRITY_CONFLICT);
      const now = nowMicros();
      const id = input.id ?? newId();
      const policy = taskRunPolicyDefaults((input.empirical_policy ?? {}) as Partial<TaskRunPolicy>);
      if (!policy.retries && policy.max_retries !== 0) policy.retries = policy.max_retries;
      if (!policy.retry_delay && policy.retry_delay_seconds !== 0) policy.retry_delay = policy.retry_delay_seconds;
      const record: TaskRunRecord = {
        id,
        created: now,
        updated: now,
        name: input.name || randomRunName(),
        ...keys,
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
      applyState(record, buildState(input.state, now, { flowRunId: keys.flow_run_id, taskRunId: id }), {
        countResumingRuns: true,
        resuming: false,
      });
      putTaskRun(dbs, record, true);
      return { record, created: true };
    });
  }

  delete(id: string): Promise<boolean> {
    return durably(this.dbs.env, () => {
      const task = this.get(id);
      if (!task) return false;
      removeTaskRun(this.dbs, task);
      return true;
    });
  }
}
