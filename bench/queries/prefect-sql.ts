/**
 * The SQL Prefect 3.0.0 sends SQLite for an artifact route's body, rendered the way SQLAlchemy
 * renders it there, with values bound as parameters. Read from upstream: models/artifacts.py
 * (`read_artifacts`, `count_artifacts` and the `latest` pair: one `SELECT` of the table's
 * columns, or `count(<table>.id)`, the artifact filter in `WHERE`, then one correlated `EXISTS`
 * over flow_run — joined to flow and/or deployment when those filters are present — and one
 * over task_run; `ORDER BY` the sort's single column, `LIMIT ? OFFSET ?`), schemas/filters.py
 * (each leaf's SQL) and utilities/database.py (the SQLite forms of Prefect's helpers):
 *
 * - `any_` → `col IN (?, …)`, `not_any_` → `(col NOT IN (?, …))`;
 * - `like_` → `lower(col) LIKE lower(?)` with `%v%` (SQLAlchemy's `ilike` on SQLite);
 * - tags `all_` → `json_has_all_keys`, on SQLite a count of distinct matches through two
 *   `json_each` tables compared with the count of distinct wanted tags; tags `is_null_` → the
 *   column `=`/`!=` the JSON text `[]`;
 * - datetimes bind as naive UTC text, so `<=`/`>=` compare strings, as on Prefect's SQLite;
 * - a filter object with no condition is TRUE: AND drops it, OR becomes TRUE; the flow-run and
 *   task-run state objects flatten their type/name leaves under their own operator.
 *
 * A body field this file does not know throws: a matrix row can never be measured against SQL
 * that silently ignores part of its filter.
 */

type Sql = { sql: string; params: unknown[] };
type Cond = Sql | true;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const TRUE = true as const;

function and(conds: Cond[]): Cond {
  const real = conds.filter((c): c is Sql => c !== TRUE);
  if (real.length === 0) return TRUE;
  if (real.length === 1) return real[0];
  return { sql: real.map((c) => c.sql).join(' AND '), params: real.flatMap((c) => c.params) };
}

function or(conds: Cond[]): Cond {
  if (conds.length === 0) return TRUE;
  if (conds.some((c) => c === TRUE)) return TRUE;
  const real = conds as Sql[];
  if (real.length === 1) return real[0];
  return { sql: `(${real.map((c) => c.sql).join(' OR ')})`, params: real.flatMap((c) => c.params) };
}

/** An `and_`/`or_` filter object: no condition is TRUE, else its operator combines them. */
function combine(obj: Obj, conds: Cond[]): Cond {
  if (conds.length === 0) return TRUE;
  return (obj.operator ?? 'and_') === 'or_' ? or(conds) : and(conds);
}

/** One condition per present field, in the order given; unknown fields throw. */
function fields(obj: Obj, where: string, known: Record<string, (v: Obj) => Cond>): Cond[] {
  const out: Cond[] = [];
  for (const name of Object.keys(obj)) {
    if (name === 'operator') continue;
    if (!(name in known)) throw new Error(`prefect-sql: ${where}.${name} is not rendered`);
  }
  for (const [name, render] of Object.entries(known)) if (obj[name] !== undefined && obj[name] !== null) out.push(render(obj[name]));
  return out;
}

const list = (values: unknown[], where: string) => {
  if (!Array.isArray(values) || values.length === 0) throw new Error(`prefect-sql: ${where} needs a non-empty list`);
  return values.map(() => '?').join(', ');
};
const inList = (col: string, values: unknown[]): Sql => ({ sql: `${col} IN (${list(values, col)})`, params: values });
const notInList = (col: string, values: unknown[]): Sql => ({ sql: `(${col} NOT IN (${list(values, col)}))`, params: values });
const ilike = (col: string, v: string): Sql => ({ sql: `lower(${col}) LIKE lower(?)`, params: [`%${v}%`] });
const isNull = (col: string, yes: boolean): Sql => ({ sql: `${col} IS ${yes ? '' : 'NOT '}NULL`, params: [] });

/** Prefect's `Timestamp` binds on SQLite: the instant in UTC as `YYYY-MM-DD HH:MM:SS.ffffff`. */
export function bindTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`prefect-sql: bad datetime ${iso}`);
  const micros = /\.(\d+)/.exec(iso)?.[1]?.padEnd(6, '0').slice(0, 6) ?? '000000';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${micros}`;
}

/** `json_has_all_keys(col, values)` as utilities/database.py compiles it for SQLite. */
function tagsAll(col: string, values: string[]): Sql {
  const wanted = JSON.stringify(values);
  return {
    sql:
      `(SELECT count(DISTINCT left.value) AS count_1 FROM json_each(${col}) AS "left" JOIN json_each(?) AS "right" ON left.value = right.value)` +
      ` >= (SELECT count(DISTINCT right.value) AS count_2 FROM json_each(?) AS "right")`,
    params: [wanted, wanted],
  };
}

function leafs(col: string, leaf: Obj, where: string, allowed: string[]): Cond[] {
  const out: Cond[] = [];
  for (const k of Object.keys(leaf)) if (!allowed.includes(k)) throw new Error(`prefect-sql: ${where}.${k} is not rendered`);
  if (leaf.any_ != null) out.push(inList(col, leaf.any_));
  if (leaf.not_any_ != null) out.push(notInList(col, leaf.not_any_));
  if (leaf.like_ != null) out.push(ilike(col, leaf.like_));
  if (leaf.exists_ != null) out.push(isNull(col, !leaf.exists_));
  if (leaf.before_ != null) out.push({ sql: `${col} <= ?`, params: [bindTime(leaf.before_)] });
  if (leaf.after_ != null) out.push({ sql: `${col} >= ?`, params: [bindTime(leaf.after_)] });
  if (leaf.is_null_ != null) out.push(isNull(col, leaf.is_null_));
  return out;
}

/** A plain (always-AND) leaf object such as `{"any_": […], "like_": "…"}`. */
const plain = (col: string, where: string, allowed: string[]) => (leaf: Obj) => and(leafs(col, leaf, where, allowed));

function tags(col: string, where: string) {
  return (leaf: Obj): Cond => {
    const conds: Cond[] = [];
    for (const k of Object.keys(leaf)) if (!['all_', 'is_null_', 'operator'].includes(k)) throw new Error(`prefect-sql: ${where}.${k} is not rendered`);
    if (leaf.all_ != null) conds.push(tagsAll(col, leaf.all_));
    if (leaf.is_null_ != null) conds.push({ sql: `${col} ${leaf.is_null_ ? '=' : '!='} ?`, params: ['[]'] });
    return combine(leaf, conds);
  };
}

/** State objects flatten their `type`/`name` leaves and combine them under their own operator. */
function state(table: string, where: string, nameLeaves: string[]) {
  return (s: Obj): Cond => {
    for (const k of Object.keys(s)) if (!['type', 'name', 'operator'].includes(k)) throw new Error(`prefect-sql: ${where}.${k} is not rendered`);
    const conds = [
      ...(s.type ? leafs(`${table}.state_type`, s.type, `${where}.type`, nameLeaves) : []),
      ...(s.name ? leafs(`${table}.state_name`, s.name, `${where}.name`, nameLeaves) : []),
    ];
    return combine(s, conds);
  };
}

function artifactFilter(table: 'artifact' | 'artifact_collection', f: Obj): Cond {
  const t = table;
  const id: Record<string, (v: Obj) => Cond> = t === 'artifact' ? { id: plain(`${t}.id`, 'artifacts.id', ['any_']) } : { latest_id: plain(`${t}.latest_id`, 'artifacts.latest_id', ['any_']) };
  return combine(
    f,
    fields(f, 'artifacts', {
      ...id,
      key: plain(`${t}."key"`, 'artifacts.key', ['any_', 'like_', 'exists_']),
      flow_run_id: plain(`${t}.flow_run_id`, 'artifacts.flow_run_id', ['any_']),
      task_run_id: plain(`${t}.task_run_id`, 'artifacts.task_run_id', ['any_']),
      type: plain(`${t}.type`, 'artifacts.type', ['any_', 'not_any_']),
    }),
  );
}

function flowRunFilter(f: Obj): Cond {
  const operatorLeaf = (col: string, where: string, allowed: string[]) => (leaf: Obj) => combine(leaf, leafs(col, leaf, where, allowed.concat('operator')));
  return combine(
    f,
    fields(f, 'flow_runs', {
      id: plain('flow_run.id', 'flow_runs.id', ['any_', 'not_any_']),
      name: plain('flow_run.name', 'flow_runs.name', ['any_', 'like_']),
      tags: tags('flow_run.tags', 'flow_runs.tags'),
      deployment_id: operatorLeaf('flow_run.deployment_id', 'flow_runs.deployment_id', ['any_', 'is_null_']),
      work_queue_name: operatorLeaf('flow_run.work_queue_name', 'flow_runs.work_queue_name', ['any_', 'is_null_']),
      flow_version: plain('flow_run.flow_version', 'flow_runs.flow_version', ['any_']),
      state: state('flow_run', 'flow_runs.state', ['any_', 'not_any_']),
      start_time: plain('flow_run.start_time', 'flow_runs.start_time', ['before_', 'after_', 'is_null_']),
      expected_start_time: plain('flow_run.expected_start_time', 'flow_runs.expected_start_time', ['before_', 'after_']),
      next_scheduled_start_time: plain('flow_run.next_scheduled_start_time', 'flow_runs.next_scheduled_start_time', ['before_', 'after_']),
      parent_task_run_id: operatorLeaf('flow_run.parent_task_run_id', 'flow_runs.parent_task_run_id', ['any_', 'is_null_']),
      idempotency_key: plain('flow_run.idempotency_key', 'flow_runs.idempotency_key', ['any_', 'not_any_']),
    }),
  );
}

function taskRunFilter(f: Obj): Cond {
  return combine(
    f,
    fields(f, 'task_runs', {
      id: plain('task_run.id', 'task_runs.id', ['any_']),
      name: plain('task_run.name', 'task_runs.name', ['any_', 'like_']),
      tags: tags('task_run.tags', 'task_runs.tags'),
      state: state('task_run', 'task_runs.state', ['any_']),
      start_time: plain('task_run.start_time', 'task_runs.start_time', ['before_', 'after_', 'is_null_']),
      expected_start_time: plain('task_run.expected_start_time', 'task_runs.expected_start_time', ['before_', 'after_']),
    }),
  );
}

function flowFilter(f: Obj): Cond {
  return combine(
    f,
    fields(f, 'flows', {
      id: plain('flow.id', 'flows.id', ['any_']),
      name: plain('flow.name', 'flows.name', ['any_', 'like_']),
      tags: tags('flow.tags', 'flows.tags'),
    }),
  );
}

function deploymentFilter(f: Obj): Cond {
  return combine(
    f,
    fields(f, 'deployments', {
      id: plain('deployment.id', 'deployments.id', ['any_']),
      name: plain('deployment.name', 'deployments.name', ['any_', 'like_']),
      tags: tags('deployment.tags', 'deployments.tags'),
      work_queue_name: plain('deployment.work_queue_name', 'deployments.work_queue_name', ['any_']),
      paused: (p: Obj) => ({ sql: `deployment.paused IS ${p.eq_ ? 1 : 0}`, params: [] }),
    }),
  );
}

export type Route = 'filter' | 'count' | 'latest/filter' | 'latest/count';
export const ROUTES: Route[] = ['filter', 'count', 'latest/filter', 'latest/count'];

const SORT_COLUMN: Record<string, string> = {
  ID_DESC: 'id DESC',
  CREATED_DESC: 'created DESC',
  UPDATED_DESC: 'updated DESC',
  KEY_DESC: '"key" DESC',
  KEY_ASC: '"key" ASC',
};

/**
 * The same sorts made total with artifactd's documented tie-break (README "Sorts"): ties by id
 * descending for the time sorts; for the key sorts, by created then id (ascending for KEY_ASC,
 * descending for KEY_DESC). Keys are unique among collections, so there the key alone is total.
 * Not what Prefect sends: the bench's correctness check runs it (untimed) so that it can compare
 * ids in order on every sort, where Prefect's one-column ORDER BY leaves ties to the database.
 */
const TOTAL_ORDER: Record<'artifact' | 'artifact_collection', Record<string, string[]>> = {
  artifact: {
    ID_DESC: ['id DESC'],
    CREATED_DESC: ['created DESC', 'id DESC'],
    UPDATED_DESC: ['updated DESC', 'id DESC'],
    KEY_ASC: ['"key" ASC', 'created ASC', 'id ASC'],
    KEY_DESC: ['"key" DESC', 'created DESC', 'id DESC'],
  },
  artifact_collection: {
    ID_DESC: ['id DESC'],
    CREATED_DESC: ['created DESC', 'id DESC'],
    UPDATED_DESC: ['updated DESC', 'id DESC'],
    KEY_ASC: ['"key" ASC'],
    KEY_DESC: ['"key" DESC'],
  },
};

/** The table's columns, in the order the ORM selects them (what `SELECT <Model>` lists). */
export type Columns = (table: string) => string[];

/**
 * The statement for one route and body. `columns` lists a table's columns (from the database),
 * for the select lists SQLAlchemy writes out, including those inside `EXISTS`. `total: true`
 * orders by TOTAL_ORDER instead of Prefect's single column (the correctness check's statement).
 */
export function prefectSql(route: Route, body: Obj, columns: Columns, { total = false } = {}): Sql {
  const table = route.startsWith('latest') ? 'artifact_collection' : 'artifact';
  const present = (k: string) => body[k] !== undefined && body[k] !== null;
  const where: Sql[] = [];
  const push = (c: Cond) => c !== TRUE && where.push(c);

  if (present('artifacts')) push(artifactFilter(table, body.artifacts));
  if (present('flows') || present('flow_runs') || present('deployments')) {
    let from = 'flow_run';
    const inner: Sql[] = [{ sql: `${table}.flow_run_id = flow_run.id`, params: [] }];
    const add = (c: Cond) => c !== TRUE && inner.push(c);
    if (present('flow_runs')) add(flowRunFilter(body.flow_runs));
    if (present('flows')) {
      from += ' JOIN flow ON flow.id = flow_run.flow_id';
      add(flowFilter(body.flows));
    }
    if (present('deployments')) {
      from += ' JOIN deployment ON deployment.id = flow_run.deployment_id';
      add(deploymentFilter(body.deployments));
    }
    const c = and(inner) as Sql;
    where.push({ sql: `(EXISTS (SELECT ${selectList('flow_run', columns)} FROM ${from} WHERE ${c.sql}))`, params: c.params });
  }
  if (present('task_runs')) {
    const c = and([{ sql: `${table}.task_run_id = task_run.id`, params: [] }, taskRunFilter(body.task_runs)]) as Sql;
    where.push({ sql: `(EXISTS (SELECT ${selectList('task_run', columns)} FROM task_run WHERE ${c.sql}))`, params: c.params });
  }
  const whereSql = where.length ? ` WHERE ${where.map((c) => c.sql).join(' AND ')}` : '';
  const params = where.flatMap((c) => c.params);

  if (route === 'count' || route === 'latest/count') {
    return { sql: `SELECT count(${table}.id) AS count_1 FROM ${table}${whereSql}`, params };
  }
  const sort = body.sort ?? 'ID_DESC';
  if (!(sort in SORT_COLUMN)) throw new Error(`prefect-sql: unknown sort ${sort}`);
  const orderBy = total ? TOTAL_ORDER[table][sort].map((c) => `${table}.${c}`).join(', ') : `${table}.${SORT_COLUMN[sort]}`;
  return {
    sql: `SELECT ${selectList(table, columns)} FROM ${table}${whereSql} ORDER BY ${orderBy} LIMIT ? OFFSET ?`,
    params: [...params, body.limit ?? 200, body.offset ?? 0],
  };
}

function selectList(table: string, columns: Columns): string {
  return columns(table)
    .map((c) => `${table}.${c === 'key' ? '"key"' : c}`)
    .join(', ');
}
