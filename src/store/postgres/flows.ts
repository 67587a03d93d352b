/**
 * Flows on PostgreSQL: create-or-fetch by name (the UNIQUE name_key meets concurrent creates
 * from any process), tags update, and delete with its deployments, flow runs and their task runs.
 */
import type { FlowCreate } from '../../schemas/companions.ts';
import type { FlowRecord } from '../companion-records.ts';
import type { Created, FlowRepository, Page, RunFilters } from '../contract.ts';
import { newFlowRecord, updatedFlow } from '../run-records.ts';
import { run, type Db } from './db.ts';
import { deleteFlowRunsWhere, parseRecord, recordById, type RecordRow, writeTransaction } from './flow-runs.ts';
import { Params } from './params.ts';
import { flowsWhere, namedOrder, pageSql } from './run-filters.ts';
import { codeUnits, FLOW_COLUMNS, flowRow, insertSql, updateSql } from './schema-runs.ts';

export class PostgresFlows implements FlowRepository {
  constructor(private readonly db: Db) {}

  get(id: string): Promise<FlowRecord | undefined> {
    return recordById<FlowRecord>(this.db, 'flow', id);
  }

  async byName(name: string): Promise<FlowRecord | undefined> {
    const rows = await this.db.unsafe<RecordRow>('SELECT record FROM flow WHERE name_key = $1::bytea', [codeUnits(name)]);
    return rows.length === 0 ? undefined : parseRecord<FlowRecord>(rows[0]);
  }

  /** An existing flow of this name is returned untouched (`created: false`). */
  async create(input: FlowCreate): Promise<Created<FlowRecord>> {
    for (;;) {
      const existing = await this.byName(input.name);
      if (existing) return { record: existing, created: false };
      const record = newFlowRecord(input);
      const inserted = await this.db.unsafe(`${insertSql('flow', FLOW_COLUMNS)} ON CONFLICT (name_key) DO NOTHING RETURNING id`, flowRow(record));
      if (inserted.length > 0) return { record, created: true };
      // Another process created it meanwhile: the loop reads that one.
    }
  }

  update(id: string, tags: string[] | undefined): Promise<boolean> {
    return writeTransaction(this.db, async (tx) => {
      const rows = await run<RecordRow>(tx, 'SELECT record FROM flow WHERE id = $1 FOR UPDATE', [id]);
      if (rows.length === 0) return false;
      await run(tx, updateSql('flow', FLOW_COLUMNS), flowRow(updatedFlow(parseRecord<FlowRecord>(rows[0]), tags)));
      return true;
    });
  }

  /** Deletes the flow; its deployments and flow runs (with their task runs) go with it. */
  delete(id: string): Promise<boolean> {
    return writeTransaction(this.db, async (tx) => {
      const rows = await run(tx, 'SELECT 1 FROM flow WHERE id = $1 FOR UPDATE', [id]);
      if (rows.length === 0) return false;
      await deleteFlowRunsWhere(tx, 'flow_id = $1', [id]);
      await run(tx, 'DELETE FROM flow WHERE id = $1', [id]);
      return true;
    });
  }

  async find(filters: RunFilters, sort: string, page: Page): Promise<FlowRecord[]> {
    const p = new Params();
    const text = `SELECT a.record FROM flow a WHERE ${flowsWhere(filters, p, 'a')} ORDER BY ${namedOrder(sort, 'a')} ${pageSql(p, page)}`;
    return (await this.db.unsafe<RecordRow>(text, p.values)).map((row) => parseRecord<FlowRecord>(row));
  }

  async count(filters: RunFilters): Promise<number> {
    const p = new Params();
    const rows = await this.db.unsafe<{ n: string }>(`SELECT count(*) AS n FROM flow a WHERE ${flowsWhere(filters, p, 'a')}`, p.values);
    return Number(rows[0].n);
  }
}
