/**
 * The two ways a task run changes without a task-run route, applied inside a write transaction
 * with the rules of `../task-run-events.ts`: an observation made from a `prefect.task-run.*`
 * event (events.ts), and a sub-flow run's state change reaching its parent task run
 * (flow-runs.ts). Either writes through `putTaskRun`, so every task-run index and counter moves
 * with the record.
 */
import type { FlowRunRecord } from '../companion-records.ts';
import type { TaskRunObservation } from '../contract.ts';
import { observedTaskRun, parentTaskRunInState } from '../task-run-events.ts';
import type { StoreDbs } from './env.ts';
import { putTaskRun, sameTaskKeys, taskRunIdByKeys } from './rows.ts';

/**
 * Applies one observation; false when it was skipped: its flow run is not stored (Prefect's
 * foreign key refuses the row), its (flow run, task key, dynamic key) belong to another task run
 * (Prefect's unique index refuses it), or the stored run's state is as new or newer.
 */
export function applyObservation(dbs: StoreDbs, observation: TaskRunObservation, now: number): boolean {
  if (observation.flow_run_id !== null && !dbs.flowRuns.doesExist(observation.flow_run_id)) return false;
  const existing = dbs.taskRuns.get(observation.id);
  const record = observedTaskRun(existing, observation, now);
  if (record === undefined) return false;
  if (existing === undefined || !sameTaskKeys(existing, record)) {
    const owner = taskRunIdByKeys(dbs, record);
    if (owner !== undefined && owner !== record.id) return false;
  }
  putTaskRun(dbs, record, existing === undefined, existing);
  return true;
}

/** After `run` (a flow run just written in a new state) changed state: its parent task run follows. */
export function followSubflow(dbs: StoreDbs, run: FlowRunRecord, now: number): void {
  if (run.parent_task_run_id === null || run.state === null) return;
  const task = dbs.taskRuns.get(run.parent_task_run_id);
  if (task) putTaskRun(dbs, parentTaskRunInState(task, run.state, run.id, now), false, task);
}
