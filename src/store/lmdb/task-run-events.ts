/**
 * The two ways a task run changes without a task-run route, applied inside a write transaction
 * with the rules of `../task-run-events.ts`: an observation made from a `prefect.task-run.*`
 * event (events.ts), and a sub-flow run's state change reaching its parent task run
 * (flow-runs.ts). Either writes through `putTaskRun`, so every task-run index and counter moves
 * with the record.
 */
import type { FlowRunRecord, TaskRunRecord } from '../companion-records.ts';
import type { TaskRunObservation } from '../contract.ts';
import { observedTaskRun, parentTaskRunInState } from '../task-run-events.ts';
import type { StoreDbs } from './env.ts';
import { putTaskRun, sameTaskKeys, taskRunIdByKeys } from './rows.ts';

/**
 * The task runs a batch of observations has moved, by id: the version last written to the store
 * (`written`) and the newest (`current`). A batch's observations of one run (its Pending, Running
 * and Completed usually arrive together) then cost one record write and one move of its index
 * entries instead of one each: a later observation that keeps the run's (flow run, task key,
 * dynamic key) only replaces `current`, and `flushObservations` writes it at the end of the
 * transaction, moving the entries from `written` to `current` — the same entries and counters as
 * the writes in between would have left (putTaskRun moves what differs, so a state left and
 * re-entered nets out). What is deferred never touches the (task key) index, so the uniqueness
 * check of another run reads a true index; an observation that changes a run's keys, or creates
 * the run, is written at once.
 */
export type ObservedRuns = Map<string, { written: TaskRunRecord | undefined; current: TaskRunRecord }>;

/**
 * Applies one observation; false when it was skipped: its flow run is not stored (Prefect's
 * foreign key refuses the row), its (flow run, task key, dynamic key) belong to another task run
 * (Prefect's unique index refuses it), or the stored run's state is as new or newer. With
 * `batch`, a write that keeps the run's keys waits there for `flushObservations`.
 */
export function applyObservation(dbs: StoreDbs, observation: TaskRunObservation, now: number, batch?: ObservedRuns): boolean {
  if (observation.flow_run_id !== null && !dbs.flowRuns.doesExist(observation.flow_run_id)) return false;
  const seen = batch?.get(observation.id);
  const written = seen ? seen.written : dbs.taskRuns.get(observation.id);
  const existing = seen ? seen.current : written;
  const record = observedTaskRun(existing, observation, now);
  if (record === undefined) return false;
  if (existing === undefined || !sameTaskKeys(existing, record)) {
    const owner = taskRunIdByKeys(dbs, record);
    if (owner !== undefined && owner !== record.id) return false;
  } else if (batch) {
    batch.set(record.id, { written, current: record });
    return true;
  }
  putTaskRun(dbs, record, written === undefined, written);
  batch?.set(record.id, { written: record, current: record });
  return true;
}

/** Writes the runs `batch` holds newer than the store (end of the observations' transaction). */
export function flushObservations(dbs: StoreDbs, batch: ObservedRuns): void {
  for (const { written, current } of batch.values()) if (current !== written) putTaskRun(dbs, current, written === undefined, written);
}

/** After `run` (a flow run just written in a new state) changed state: its parent task run follows. */
export function followSubflow(dbs: StoreDbs, run: FlowRunRecord, now: number): void {
  if (run.parent_task_run_id === null || run.state === null) return;
  const task = dbs.taskRuns.get(run.parent_task_run_id);
  if (task) putTaskRun(dbs, parentTaskRunInState(task, run.state, run.id, now), false, task);
}
