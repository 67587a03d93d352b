/**
 * Flow runs on PostgreSQL: create (idempotency keys scoped per flow, resolved by the UNIQUE
 * (flow_id, idempotency_key_key) constraint across processes), state changes (a sub-flow run's
 * parent task run following), updates, delete
 * with the run's task runs — and the helpers the other companion repositories share: the
 * retried write transaction, and deleting runs with their task runs (sub-flow runs detached).
 */
import type { FlowRunUpdate, StateCreate } from '../../schemas/companions.ts';
import type { FlowRunRecord, TaskRunRecord } from '../companion-records.ts';
import type { Created, FlowRunCreateInput, FlowRunRepository, Page, RunFilters } from '../contract.ts';
import { INTEGRITY_CONFLICT, Refusal } from '../refusal.ts';
import { flowRunInState, newFlowRunRecord, patchedFlowRun, type NewFlowRun } from '../run-records.ts';
import { parentTaskRunInState } from '../task-run-events.ts';
import { nowMicros } from '../../time.ts';
import { run, type Db, type Tx } from './db.ts';
import { Params } from './params.ts';
import { flowRunsWhere, pageSql, runOrder } from './run-filters.ts';
import { codeUnits, FLOW_RUN_COLUMNS, flowRunRow, insertSql, TASK_RUN_COLUMNS, taskRunRow, updateSql } from './schema-runs.ts';

export type RecordRow = { record: string };

/** The SQLSTATE of an error from PostgreSQL, if it is one. */
export function sqlState(error: unknown): string | undefined {
  const e = error as { errno?: unknown; code?: unknown } | null;
  if (e == null) return undefined;
  if (typeof e.errno === 'string' && /^[0-9A-Z]{5}$/.test(e.errno)) return e.errno;
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  return undefined;
}

const RETRIED = new Set(['40P01', '40001']); // deadlock detected, serialization failure

/**
 * A write transaction, retried when PostgreSQL breaks a deadlock or a serialization conflict
 * by aborting it (a few times, with a short random pause): concurrent writers resolve, never
 * a 500. A foreign key violated by a concurrent delete (the flow of a new run went meanwhile)
 * is the write's refusal, as the missing parent is before.
 */
export async function writeTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction(fn);
    } catch (error) {
      const state = sqlState(error);
      if (state !== undefined && RETRIED.has(state) && attempt < 8) {
        await Bun.sleep(Math.random() * 5 * (attempt + 1));
        continue;
      }
      if (state === '23503') throw new Refusal('conflict', INTEGRITY_CONFLICT);
      throw error;
    }
  }
}

export const parseRecord = <T>(row: RecordRow): T => JSON.parse(row.record) as T;

/**
 * The lock of a flow run whose row is rewritten in place (its id unchanged): FOR NO KEY UPDATE,
 * which writers that only reference the run (a task run inserted under it, an event append's
 * FOR KEY SHARE) do not wait for; a delete's FOR UPDATE still does.
 */
const ROW_LOCK = 'FOR NO KEY UPDATE';

/** The record of the row `id` of `table` (on the pool), if any. */
export async function recordById<T>(db: Db, table: string, id: string): Promise<T | undefined> {
  const rows = await db.unsafe<RecordRow>(`SELECT record FROM ${table} WHERE id = $1`, [id]);
  return rows.length === 0 ? undefined : parseRecord<T>(rows[0]);
}

/**
 * Clears `parent_task_run_id` of the sub-flow runs started by the task runs `taskRunIds` (about
 * to be deleted), in their records and columns: they keep running with no parent (LMDB
 * `removeTaskRun`). `updated` is left alone, as LMDB leaves it.
 */
export async function detachSubflows(tx: Tx, taskRunIds: string[]): Promise<void> {
  if (taskRunIds.length === 0) return;
  const rows = await run<RecordRow & { id: string }>(
    tx,
    'SELECT id, record FROM flow_run WHERE parent_task_run_id = ANY($1::text[]) ORDER BY id FOR UPDATE',
    [taskRunIds],
  );
  for (const row of rows) {
    const sub = parseRecord<FlowRunRecord>(row);
    sub.parent_task_run_id = null;
    await run(tx, 'UPDATE flow_run SET parent_task_run_id = NULL, record = $2 WHERE id = $1', [row.id, JSON.stringify(sub)]);
  }
}

/**
 * Deletes the flow runs `condition` selects (with its `values`) and their task runs (the
 * foreign key cascades), sub-flow runs of those task runs detached first; how many went.
 */
export async function deleteFlowRunsWhere(tx: Tx, condition: string, values: unknown[]): Promise<number> {
  const runs = await run<{ id: string }>(tx, `SELECT id FROM flow_run WHERE ${condition} ORDER BY id FOR UPDATE`, values);
  if (runs.length === 0) return 0;
  const ids = runs.map((r) => r.id);
  const tasks = await run<{ id: string }>(tx, 'SELECT id FROM task_run WHERE flow_run_id = ANY($1::text[]) ORDER BY id FOR UPDATE', [ids]);
  await detachSubflows(
    tx,
    tasks.map((t) => t.id),
  );
  await run(tx, 'DELETE FROM flow_run WHERE id = ANY($1::text[])', [ids]);
  return ids.length;
}

/**
 * The create logic inside a transaction (also a deployment's `create_flow_run`): the same
 * checks in the same order as LMDB's, then an insert that meets a concurrent one with the same
 * idempotency key in the UNIQUE constraint and returns that one instead.
 */
export async function insertFlowRun(tx: Tx, input: NewFlowRun): Promise<Created<FlowRunRecord>> {
  const flow = await run(tx, 'SELECT 1 FROM flow WHERE id = $1 FOR KEY SHARE', [input.flow_id]);
  if (flow.length === 0) throw new Refusal('conflict', INTEGRITY_CONFLICT);
  if (input.parent_task_run_id) {
    // Locked until commit: a concurrent delete of the task run waits, then detaches this run.
    const parent = await run(tx, 'SELECT 1 FROM task_run WHERE id = $1 FOR KEY SHARE', [input.parent_task_run_id]);
    if (parent.length === 0) throw new Refusal('conflict', INTEGRITY_CONFLICT);
  }
  if (input.infrastructure_document_id) throw new Refusal('conflict', INTEGRITY_CONFLICT); // no block documents here
  const key = input.idempotency_key ?? null;
  const existing = async () => {
    if (key === null) return undefined;
    const rows = await run<RecordRow>(tx, 'SELECT record FROM flow_run WHERE flow_id = $1 AND idempotency_key_key = $2::bytea', [
      input.flow_id,
      codeUnits(key),
    ]);
    if (rows.length === 0) return undefined;
    // An empty key is stored but never looked up, so a second one violates uniqueness.
    if (key === '') throw new Refusal('conflict', INTEGRITY_CONFLICT);
    return { record: parseRecord<FlowRunRecord>(rows[0]), created: false };
  };
  for (;;) {
    const found = await existing();
    if (found) return found;
    const record = newFlowRunRecord(input);
    const inserted = await run(tx, `${insertSql('flow_run', FLOW_RUN_COLUMNS)} ON CONFLICT (flow_id, idempotency_key_key) DO NOTHING RETURNING id`, flowRunRow(record));
    if (inserted.length > 0) return { record, created: true };
    // A concurrent create with this key committed first: answer its run (the loop reads it).
  }
}

export class PostgresFlowRuns implements FlowRunRepository {
  constructor(private readonly db: Db) {}

  create(input: FlowRunCreateInput): Promise<Created<FlowRunRecord>> {
    return writeTransaction(this.db, (tx) => insertFlowRun(tx, input));
  }

  get(id: string): Promise<FlowRunRecord | undefined> {
    return recordById<FlowRunRecord>(this.db, 'flow_run', id);
  }

  /**
   * Forces a new state (what `set_state` with `force` does; no orchestration rules here). A
   * sub-flow run's parent task run moves to a copy of the state in the same transaction
   * (`parentTaskRunInState`). Locks as the deletes take them — the task run, then the flow run
   * (deleteFlowRunsWhere, PostgresTaskRuns.delete: a task run, then the sub-flow runs it
   * detaches) — so the two never wait on each other in a cycle; the parent is read first without
   * a lock and checked again once the run is locked.
   */
  setState(id: string, input: StateCreate): Promise<FlowRunRecord | undefined> {
    return writeTransaction(this.db, async (tx) => {
      for (;;) {
        const [peek] = await run<{ parent_task_run_id: string | null }>(tx, 'SELECT parent_task_run_id FROM flow_run WHERE id = $1', [id]);
        if (peek === undefined) return undefined;
        const parentId = peek.parent_task_run_id;
        const parent = parentId === null ? [] : await run<RecordRow>(tx, 'SELECT record FROM task_run WHERE id = $1 FOR UPDATE', [parentId]);
        const rows = await run<RecordRow>(tx, `SELECT record FROM flow_run WHERE id = $1 ${ROW_LOCK}`, [id]);
        if (rows.length === 0) return undefined;
        const old = parseRecord<FlowRunRecord>(rows[0]);
        if (old.parent_task_run_id !== parentId) continue; // detached or linked meanwhile: read again
        const next = flowRunInState(old, input);
        await run(tx, updateSql('flow_run', FLOW_RUN_COLUMNS), flowRunRow(next));
        if (parent.length > 0 && next.state !== null) {
          const task = parentTaskRunInState(parseRecord<TaskRunRecord>(parent[0]), next.state, next.id, nowMicros());
          await run(tx, updateSql('task_run', TASK_RUN_COLUMNS), taskRunRow(task));
        }
        return next;
      }
    });
  }

  async update(id: string, patch: FlowRunUpdate): Promise<boolean> {
    return (await this.rewrite(id, (old) => patchedFlowRun(old, patch))) !== undefined;
  }

  private rewrite(id: string, change: (old: FlowRunRecord) => FlowRunRecord): Promise<FlowRunRecord | undefined> {
    return writeTransaction(this.db, async (tx) => {
      const rows = await run<RecordRow>(tx, `SELECT record FROM flow_run WHERE id = $1 ${ROW_LOCK}`, [id]);
      if (rows.length === 0) return undefined;
      const next = change(parseRecord<FlowRunRecord>(rows[0]));
      await run(tx, updateSql('flow_run', FLOW_RUN_COLUMNS), flowRunRow(next));
      return next;
    });
  }

  delete(id: string): Promise<boolean> {
    return writeTransaction(this.db, async (tx) => (await deleteFlowRunsWhere(tx, 'id = $1', [id])) > 0);
  }

  async find(filters: RunFilters, sort: string, page: Page): Promise<FlowRunRecord[]> {
    const p = new Params();
    const where = flowRunsWhere(filters, p, 'a');
    const text = `SELECT a.record FROM flow_run a WHERE ${where} ORDER BY ${runOrder(sort, 'a')} ${pageSql(p, page)}`;
    return (await this.db.unsafe<RecordRow>(text, p.values)).map((row) => parseRecord<FlowRunRecord>(row));
  }

  async count(filters: RunFilters): Promise<number> {
    const p = new Params();
    const rows = await this.db.unsafe<{ n: string }>(`SELECT count(*) AS n FROM flow_run a WHERE ${flowRunsWhere(filters, p, 'a')}`, p.values);
    return Number(rows[0].n);
  }
}
