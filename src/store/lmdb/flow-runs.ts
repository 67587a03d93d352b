/**
 * Flow runs: create (with idempotency keys scoped per flow), state changes, updates, and delete
 * with the run's task runs.
 */
import type { FlowRunUpdate, StateCreate } from '../../schemas/companions.ts';
import type { FlowRunRecord } from '../companion-records.ts';
import { flowRunInState, newFlowRunRecord, patchedFlowRun, type NewFlowRun } from '../run-records.ts';
import { durably } from './durable.ts';
import { INTEGRITY_CONFLICT, Refusal } from '../refusal.ts';
import type { StoreDbs } from './env.ts';
import { idempotencyKey, putFlowRun, removeFlowRun } from './rows.ts';
import { followSubflow } from './task-run-events.ts';
import { nowMicros } from '../../time.ts';

export type { NewFlowRun } from '../run-records.ts';

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
    const record = newFlowRunRecord(input);
    putFlowRun(dbs, record);
    return { record, created: true };
  }

  /**
   * Forces a new state (what `set_state` with `force` does; no orchestration rules here). A
   * sub-flow run's parent task run moves to a copy of the state in the same transaction.
   */
  setState(id: string, input: StateCreate): Promise<FlowRunRecord | undefined> {
    return durably(this.dbs.env, () => {
      const old = this.get(id);
      if (!old) return undefined;
      const run = flowRunInState(old, input);
      putFlowRun(this.dbs, run, old);
      followSubflow(this.dbs, run, nowMicros());
      return run;
    });
  }

  update(id: string, patch: FlowRunUpdate): Promise<boolean> {
    return durably(this.dbs.env, () => {
      const old = this.get(id);
      if (!old) return false;
      const run = patchedFlowRun(old, patch);
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
