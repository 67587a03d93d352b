/**
 * The four artifact queries (`filter`, `latest/filter`, `count`, `latest/count`) as SQL: the
 * artifact or collection filter (artifact-filters.ts), the run filters as EXISTS conditions on
 * the row's (or, for collections, its latest version's) flow run and task run ids
 * (run-filters.ts), the sort with its tie-breaks, OFFSET and LIMIT. One statement per query:
 * a page and its JSON come from one snapshot.
 *
 * A query runs under a statement timeout of `settings.timeoutMs`: the pool's own (a startup
 * parameter, no extra round trip) when it is the same, else `SET LOCAL` in a transaction. A
 * statement stopped by it rejects with QueryDeadlineError, which the app answers 503, as it
 * does LMDB's.
 */
import type { ArtifactQueries, Page, QueryAnswer, QueryRequest, QuerySettings, RunFilters } from '../contract.ts';
import type { Sort } from '../../schemas/artifacts.ts';
import type { ArtifactCollectionFilter, ArtifactFilter } from '../../schemas/filters.ts';
import { artifactCondition, artifactOrderBy, collectionCondition, collectionOrderBy, combineSql, FALSE, TRUE } from './artifact-filters.ts';
import { ARTIFACT_COLUMNS_A, COLLECTION_COLUMNS_C, collectionRowJson, rowJson, type ArtifactRow, type CollectionRow } from './artifact-rows.ts';
import { run, withStatementTimeout, type Db } from './db.ts';
import { Params, rowOffset } from './params.ts';
import { runConditions } from './run-filters.ts';
import { counterSql } from './schema-counters.ts';

export interface Statement {
  text: string;
  values: unknown[];
}

const hasRunFilters = (runs: RunFilters | null | undefined): runs is RunFilters =>
  runs != null && (runs.flows != null || runs.flow_runs != null || runs.task_runs != null || runs.deployments != null);

/** The WHERE condition of a table's query: its own filter and the run filters; FALSE: nothing matches. */
function where(own: string, runs: RunFilters | null | undefined, params: Params, alias: string): string {
  if (own === FALSE || !hasRunFilters(runs)) return own;
  const onRuns = runConditions(runs, params, `${alias}.flow_run_id`, `${alias}.task_run_id`);
  return combineSql(onRuns === null ? [own] : [own, onRuns]);
}

const whereClause = (condition: string) => (condition === TRUE ? '' : ` WHERE ${condition}`);

function paged(text: string, params: Params, page: Page): string {
  let out = text;
  if (page.offset > 0) out += ` OFFSET ${params.add(rowOffset(page.offset))}`;
  return `${out} LIMIT ${params.add(page.limit)}`;
}

/** A page of `/artifacts/filter` (null: nothing can match). */
export function findArtifactsSql(filter: ArtifactFilter | null | undefined, sort: Sort, page: Page, runs: RunFilters | null): Statement | null {
  const params = new Params();
  const condition = where(artifactCondition(filter, params, 'a'), runs, params, 'a');
  if (condition === FALSE || page.limit <= 0) return null;
  const text = paged(`SELECT ${ARTIFACT_COLUMNS_A} FROM artifact a${whereClause(condition)} ORDER BY ${artifactOrderBy(sort, 'a')}`, params, page);
  return { text, values: params.values };
}

/** A page of `/artifacts/latest/filter` (null: nothing can match). */
export function findCollectionsSql(filter: ArtifactCollectionFilter | null | undefined, sort: Sort, page: Page, runs: RunFilters | null): Statement | null {
  const params = new Params();
  const condition = where(collectionCondition(filter, params, 'c'), runs, params, 'c');
  if (condition === FALSE || page.limit <= 0) return null;
  const text = paged(`SELECT ${COLLECTION_COLUMNS_C} FROM artifact_collection c${whereClause(condition)} ORDER BY ${collectionOrderBy(sort, 'c')}`, params, page);
  return { text, values: params.values };
}

/**
 * `/artifacts/count` (null: zero without a query). With nothing to filter on (no artifact
 * condition, no run filter), the table's counters answer (schema-counters.ts): a few rows read
 * instead of a count(*) over every row.
 */
export function countArtifactsSql(filter: ArtifactFilter | null | undefined, runs: RunFilters | null): Statement | null {
  const params = new Params();
  const condition = where(artifactCondition(filter, params, 'a'), runs, params, 'a');
  if (condition === FALSE) return null;
  if (condition === TRUE) return { text: counterSql('artifact'), values: [] };
  return { text: `SELECT count(*) AS n FROM artifact a${whereClause(condition)}`, values: params.values };
}

/** `/artifacts/latest/count` (null: zero without a query); unfiltered: from the counters, as above. */
export function countCollectionsSql(filter: ArtifactCollectionFilter | null | undefined, runs: RunFilters | null): Statement | null {
  const params = new Params();
  const condition = where(collectionCondition(filter, params, 'c'), runs, params, 'c');
  if (condition === FALSE) return null;
  if (condition === TRUE) return { text: counterSql('artifact_collection'), values: [] };
  return { text: `SELECT count(*) AS n FROM artifact_collection c${whereClause(condition)}`, values: params.values };
}

type Executor = <T>(statement: Statement) => Promise<T[]>;

/** Answers one request with `execute` (which runs a statement under the deadline). */
export async function answer(request: QueryRequest, execute: Executor): Promise<QueryAnswer> {
  const { route, values, limit } = request;
  const runs: RunFilters = {
    flows: values.flows as RunFilters['flows'],
    flow_runs: values.flow_runs as RunFilters['flow_runs'],
    task_runs: values.task_runs as RunFilters['task_runs'],
    deployments: values.deployments as RunFilters['deployments'],
  };
  const page = { offset: (values.offset as number | undefined) ?? 0, limit };
  const sort = (values.sort as Sort | undefined) ?? 'ID_DESC';
  switch (route) {
    case 'filter': {
      const statement = findArtifactsSql(values.artifacts as ArtifactFilter | undefined, sort, page, runs);
      if (statement === null) return [];
      return (await execute<ArtifactRow>(statement)).map(rowJson);
    }
    case 'latest/filter': {
      const statement = findCollectionsSql(values.artifacts as ArtifactCollectionFilter | undefined, sort, page, runs);
      if (statement === null) return [];
      return (await execute<CollectionRow>(statement)).map(collectionRowJson);
    }
    case 'count':
    case 'latest/count': {
      const statement =
        route === 'count'
          ? countArtifactsSql(values.artifacts as ArtifactFilter | undefined, runs)
          : countCollectionsSql(values.artifacts as ArtifactCollectionFilter | undefined, runs);
      if (statement === null) return 0;
      const [row] = await execute<{ n: string | number }>(statement);
      return Number(row?.n ?? 0);
    }
  }
  throw new Error(`unknown query route ${String(route)}`);
}

export class PostgresArtifactQueries implements ArtifactQueries {
  /** Nothing moves between threads here. */
  readonly handedOff = 0;

  constructor(
    private readonly db: Db,
    private readonly settings: QuerySettings,
  ) {}

  run(request: QueryRequest): Promise<QueryAnswer> {
    return answer(request, (statement) => this.execute(statement));
  }

  private async execute<T>(statement: Statement): Promise<T[]> {
    const timeoutMs = this.settings.timeoutMs;
    // db.unsafe and withStatementTimeout turn a statement timeout into QueryDeadlineError.
    if (this.db.statementTimeoutMs === timeoutMs) return await this.db.unsafe<T>(statement.text, statement.values);
    return await withStatementTimeout(this.db, timeoutMs, (tx) => run<T>(tx, statement.text, statement.values));
  }

  async close(): Promise<void> {
    // The pool belongs to the store.
  }
}
