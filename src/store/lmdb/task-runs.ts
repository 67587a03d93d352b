/**
 * Task runs: create-or-fetch by (flow run, task key, dynamic key), an optional client-chosen id,
 * and delete.
 */
import type { TaskRunCreate } from '../../schemas/companions.ts';
import type { TaskRunRecord } from '../companion-records.ts';
import { newTaskRunRecord } from '../run-records.ts';
import { durably } from './durable.ts';
import { INTEGRITY_CONFLICT, Refusal } from '../refusal.ts';
import type { StoreDbs } from './env.ts';
import { putTaskRun, removeTaskRun, taskRunIdByKeys } from './rows.ts';

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
      const record = newTaskRunRecord(input);
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
