/**
 * Task runs on PostgreSQL: create-or-fetch by (flow run, task key, dynamic key) — a unique
 * index that meets concurrent creates from any process —, an optional client-chosen id, and
 * delete (sub-flow runs it started keep running with no parent task run).
 */
import type { TaskRunCreate } from '../../schemas/companions.ts';
import type { TaskRunRecord } from '../companion-records.ts';
import type { Created, Page, RunFilters, TaskRunRepository } from '../contract.ts';
import { INTEGRITY_CONFLICT, Refusal } from '../refusal.ts';
import { newTaskRunRecord } from '../run-records.ts';
import { run, type Db } from './db.ts';
import { detachSubflows, parseRecord, recordById, type RecordRow, writeTransaction } from './flow-runs.ts';
import { Params } from './params.ts';
import { pageSql, runOrder, taskRunsWhere } from './run-filters.ts';
import { codeUnits, insertSql, TASK_RUN_COLUMNS, taskRunRow } from './schema-runs.ts';

export class PostgresTaskRuns implements TaskRunRepository {
  constructor(private readonly db: Db) {}

  get(id: string): Promise<TaskRunRecord | undefined> {
    return recordById<TaskRunRecord>(this.db, 'task_run', id);
  }

  create(input: TaskRunCreate): Promise<Created<TaskRunRecord>> {
    return writeTransaction(this.db, async (tx) => {
      const flowRunId = input.flow_run_id ?? null;
      if (flowRunId !== null) {
        const parent = await run(tx, 'SELECT 1 FROM flow_run WHERE id = $1 FOR KEY SHARE', [flowRunId]);
        if (parent.length === 0) throw new Refusal('conflict', INTEGRITY_CONFLICT);
      }
      const keys = [flowRunId ?? '', codeUnits(input.task_key), codeUnits(input.dynamic_key)];
      for (;;) {
        const same = await run<RecordRow>(
          tx,
          `SELECT record FROM task_run WHERE COALESCE(flow_run_id, '') = $1 AND task_key_key = $2::bytea AND dynamic_key_key = $3::bytea`,
          keys,
        );
        if (same.length > 0) {
          // The same run again: returned as it is, whatever state or tags this request carries.
          const existing = parseRecord<TaskRunRecord>(same[0]);
          if (!input.id || input.id === existing.id) return { record: existing, created: false };
          throw new Refusal('conflict', INTEGRITY_CONFLICT);
        }
        if (input.id) {
          const taken = await run(tx, 'SELECT 1 FROM task_run WHERE id = $1', [input.id]);
          if (taken.length > 0) throw new Refusal('conflict', INTEGRITY_CONFLICT);
        }
        const record = newTaskRunRecord(input);
        const inserted = await run(tx, `${insertSql('task_run', TASK_RUN_COLUMNS)} ON CONFLICT DO NOTHING RETURNING id`, taskRunRow(record));
        if (inserted.length > 0) return { record, created: true };
        // A concurrent create of these keys (or this id) committed first: the loop decides again.
      }
    });
  }

  delete(id: string): Promise<boolean> {
    return writeTransaction(this.db, async (tx) => {
      const rows = await run(tx, 'SELECT 1 FROM task_run WHERE id = $1 FOR UPDATE', [id]);
      if (rows.length === 0) return false;
      await detachSubflows(tx, [id]);
      await run(tx, 'DELETE FROM task_run WHERE id = $1', [id]);
      return true;
    });
  }

  async find(filters: RunFilters, sort: string, page: Page): Promise<TaskRunRecord[]> {
    const p = new Params();
    const text = `SELECT a.record FROM task_run a WHERE ${taskRunsWhere(filters, p, 'a')} ORDER BY ${runOrder(sort, 'a')} ${pageSql(p, page)}`;
    return (await this.db.unsafe<RecordRow>(text, p.values)).map((row) => parseRecord<TaskRunRecord>(row));
  }

  async count(filters: RunFilters): Promise<number> {
    const p = new Params();
    const rows = await this.db.unsafe<{ n: string }>(`SELECT count(*) AS n FROM task_run a WHERE ${taskRunsWhere(filters, p, 'a')}`, p.values);
    return Number(rows[0].n);
  }
}
