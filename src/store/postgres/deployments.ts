/**
 * Deployments on PostgreSQL: create-or-overwrite by (flow, name) — the UNIQUE (flow_id,
 * name_key) constraint meets concurrent creates from any process —, delete (with the
 * deployment's SCHEDULED runs), and creating a flow run from a deployment.
 */
import type { DeploymentCreate, DeploymentFlowRunCreate } from '../../schemas/companions.ts';
import type { DeploymentRecord, FlowRunRecord } from '../companion-records.ts';
import type { Created, DeploymentRepository, Page, RunFilters } from '../contract.ts';
import { Refusal } from '../refusal.ts';
import { deploymentFlowRun, deploymentRecord, deploymentRefusal } from '../run-records.ts';
import { run, type Db } from './db.ts';
import { deleteFlowRunsWhere, insertFlowRun, parseRecord, recordById, type RecordRow, writeTransaction } from './flow-runs.ts';
import { Params } from './params.ts';
import { deploymentsWhere, namedOrder, pageSql } from './run-filters.ts';
import { codeUnits, DEPLOYMENT_COLUMNS, deploymentRow, insertSql, updateSql } from './schema-runs.ts';

export class PostgresDeployments implements DeploymentRepository {
  constructor(private readonly db: Db) {}

  get(id: string): Promise<DeploymentRecord | undefined> {
    return recordById<DeploymentRecord>(this.db, 'deployment', id);
  }

  /** A deployment with the same flow and name is overwritten with the submitted values. */
  create(input: DeploymentCreate): Promise<Created<DeploymentRecord>> {
    return writeTransaction(this.db, async (tx) => {
      const flow = input.work_pool_name ? [] : await run(tx, 'SELECT 1 FROM flow WHERE id = $1 FOR KEY SHARE', [input.flow_id]);
      const refusal = deploymentRefusal(input, flow.length > 0);
      if (refusal) throw refusal;
      for (;;) {
        const rows = await run<RecordRow>(tx, 'SELECT record FROM deployment WHERE flow_id = $1 AND name_key = $2::bytea FOR UPDATE', [
          input.flow_id,
          codeUnits(input.name),
        ]);
        const existing = rows.length === 0 ? undefined : parseRecord<DeploymentRecord>(rows[0]);
        const record = deploymentRecord(input, existing);
        if (existing) {
          await run(tx, updateSql('deployment', DEPLOYMENT_COLUMNS), deploymentRow(record));
          return { record, created: false };
        }
        const inserted = await run(tx, `${insertSql('deployment', DEPLOYMENT_COLUMNS)} ON CONFLICT (flow_id, name_key) DO NOTHING RETURNING id`, deploymentRow(record));
        if (inserted.length > 0) return { record, created: true };
        // Another process created it meanwhile: the loop overwrites that one.
      }
    });
  }

  /** Deletes the deployment and those of its runs that are still SCHEDULED. */
  delete(id: string): Promise<boolean> {
    return writeTransaction(this.db, async (tx) => {
      const rows = await run(tx, 'SELECT 1 FROM deployment WHERE id = $1 FOR UPDATE', [id]);
      if (rows.length === 0) return false;
      await deleteFlowRunsWhere(tx, `deployment_id = $1 AND state_type = 'SCHEDULED'`, [id]);
      await run(tx, 'DELETE FROM deployment WHERE id = $1', [id]);
      return true;
    });
  }

  createFlowRun(id: string, input: DeploymentFlowRunCreate): Promise<Created<FlowRunRecord>> {
    return writeTransaction(this.db, async (tx) => {
      const rows = await run<RecordRow>(tx, 'SELECT record FROM deployment WHERE id = $1 FOR KEY SHARE', [id]);
      if (rows.length === 0) throw new Refusal('not_found', 'Deployment not found');
      const next = deploymentFlowRun(parseRecord<DeploymentRecord>(rows[0]), input);
      if (next instanceof Refusal) throw next;
      return insertFlowRun(tx, next);
    });
  }

  async find(filters: RunFilters, sort: string, page: Page): Promise<DeploymentRecord[]> {
    const p = new Params();
    const text = `SELECT a.record FROM deployment a WHERE ${deploymentsWhere(filters, p, 'a')} ORDER BY ${namedOrder(sort, 'a')} ${pageSql(p, page)}`;
    return (await this.db.unsafe<RecordRow>(text, p.values)).map((row) => parseRecord<DeploymentRecord>(row));
  }

  async count(filters: RunFilters): Promise<number> {
    const p = new Params();
    const rows = await this.db.unsafe<{ n: string }>(`SELECT count(*) AS n FROM deployment a WHERE ${deploymentsWhere(filters, p, 'a')}`, p.values);
    return Number(rows[0].n);
  }
}
