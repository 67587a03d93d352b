/**
 * Differential test of the PostgreSQL companion queries against LMDB's: a random world of flows,
 * deployments, flow runs (states, tags, times, parents, dangling deployments) and task runs is
 * written through the LMDB store, copied row for row into PostgreSQL, and then many random
 * filters (every field and operator of the four filter models, combined across resources),
 * sorts and pages are answered by both — `findFlows/countFlows/…` (lmdb/query/companions.ts)
 * against the Postgres repositories, and LMDB's `resolveRunSets` against `runConditions` over
 * random artifact (flow run, task run) pairs. Answers must be equal, row for row.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, testDatabaseUrl } from '../../postgres/cluster.ts';
import { LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { countDeployments, countFlowRuns, countFlows, countTaskRuns, findDeployments, findFlowRuns, findFlows, findTaskRuns } from '../../../src/store/lmdb/query/companions.ts';
import { resolveRunSets } from '../../../src/store/lmdb/query/runs.ts';
import { Db } from '../../../src/store/postgres/db.ts';
import { migrate } from '../../../src/store/postgres/migrations.ts';
import { Params } from '../../../src/store/postgres/params.ts';
import { runConditions } from '../../../src/store/postgres/run-filters.ts';
import {
  DEPLOYMENT_COLUMNS,
  deploymentRow,
  FLOW_COLUMNS,
  FLOW_RUN_COLUMNS,
  flowRow,
  flowRunRow,
  insertSql,
  TASK_RUN_COLUMNS,
  taskRunRow,
} from '../../../src/store/postgres/schema-runs.ts';
import { PostgresDeployments } from '../../../src/store/postgres/deployments.ts';
import { PostgresFlowRuns } from '../../../src/store/postgres/flow-runs.ts';
import { PostgresFlows } from '../../../src/store/postgres/flows.ts';
import { PostgresTaskRuns } from '../../../src/store/postgres/task-runs.ts';
import { formatMicros } from '../../../src/time.ts';
import type { RunFilters } from '../../../src/store/contract.ts';

const url = await testDatabaseUrl();

// ── a seeded random source ─────────────────────────────────────────────────────────────────

let seed = Number(process.env.DIFF_SEED ?? 20240607);
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const chance = (p: number) => random() < p;
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
const some = <T>(items: readonly T[], max = 3): T[] => Array.from({ length: Math.floor(random() * (max + 1)) }, () => pick(items));
const maybe = <T>(value: () => T, p = 0.5): T | undefined => (chance(p) ? value() : undefined);

const NAMES = ['alpha', 'Alpha', 'ALPHA-run', 'beta_1', 'beta-1', 'b%eta', 'école', 'ÉCOLE', 'x\u{1F600}y', 'x\uE000y', 'gamma', 'a\\b', 'run one', 'd-1-1'];
const PATTERNS = ['alpha', 'ALP', 'a_p', 'b%a', '%', '_', '', 'é', 'É', 'co', 'ECOLE', '\u{1F600}', 'x_y', 'a\\b', '1', 'd_1', 'zzz'];
const TAGS = ['a', 'b', 'c', 'A', 'tag with space', 'é'];
const STATES = ['SCHEDULED', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED', 'PAUSED', 'CANCELLING'] as const;
const STATE_NAMES = ['Scheduled', 'Pending', 'Running', 'Completed', 'Failed', 'Late', 'Retrying', 'AwaitingRetry'];
const QUEUES = ['q1', 'q2', 'Q1'];
const VERSIONS = ['1.0', '2.0', 'v1'];
const UNKNOWN = '0190f3a2-0000-7000-8000-000000000000';

describe.skipIf(url === null)('PostgreSQL companion queries equal LMDB’s', () => {
  let dir: string;
  let store: Store;
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let db: Db;
  const ids = { flows: [] as string[], deployments: [] as string[], flowRuns: [] as string[], taskRuns: [] as string[] };
  const times: number[] = [];
  const pairs: [number, string | null, string | null][] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runs-diff-'));
    store = Store.open(dir);
    fresh = await freshDatabase('runs_diff');
    db = new Db(fresh.url);
    await migrate(db);

    for (let i = 0; i < 8; i++) {
      const { record } = await store.flows.create({ name: `${pick(NAMES)}-${i}`, tags: some(TAGS) });
      ids.flows.push(record.id);
    }
    // Same-named flows in different case and one with a name from the pool as is.
    ids.flows.push((await store.flows.create({ name: 'alpha', tags: [] })).record.id);
    ids.flows.push((await store.flows.create({ name: 'ALPHA', tags: ['a', 'a'] })).record.id);
    for (let i = 0; i < 14; i++) {
      const { record } = await store.deployments.create({
        name: `${pick(NAMES)}${i % 3}`,
        flow_id: pick(ids.flows),
        paused: chance(0.5),
        tags: some(TAGS),
        work_queue_name: maybe(() => pick(QUEUES)),
        concurrency_limit: maybe(() => Math.floor(random() * 5)),
      } as never);
      if (!ids.deployments.includes(record.id)) ids.deployments.push(record.id);
    }
    for (let i = 0; i < 70; i++) {
      const type = pick(STATES);
      const state: Record<string, unknown> = { type, name: maybe(() => pick(STATE_NAMES), 0.3) };
      if (type === 'SCHEDULED' && chance(0.5)) state.state_details = { scheduled_time: formatMicros(Date.now() * 1000 + Math.floor(random() * 1e9)) };
      const parent = ids.taskRuns.length > 0 && chance(0.3) ? pick(ids.taskRuns) : undefined;
      const { record } = await store.flowRuns.create({
        flow_id: pick(ids.flows),
        name: maybe(() => pick(NAMES), 0.9),
        tags: some(TAGS),
        deployment_id: chance(0.6) ? pick(ids.deployments) : chance(0.3) ? UNKNOWN : undefined,
        work_queue_name: maybe(() => pick(QUEUES)),
        flow_version: maybe(() => pick(VERSIONS)),
        idempotency_key: maybe(() => `key-${i % 50}`, 0.3),
        parent_task_run_id: parent,
        state,
      } as never);
      ids.flowRuns.push(record.id);
      // Move some through RUNNING (start time) and on to an end.
      if (chance(0.5)) await store.flowRuns.setState(record.id, { type: 'RUNNING' } as never);
      if (chance(0.4)) await store.flowRuns.setState(record.id, { type: pick(STATES) } as never);
      for (let j = 0; j < 2; j++) {
        if (!chance(0.6)) continue;
        const taskState = pick(STATES);
        const task = await store.taskRuns.create({
          flow_run_id: chance(0.85) ? record.id : undefined,
          task_key: `task-${j}`,
          dynamic_key: `${i}`,
          name: maybe(() => pick(NAMES), 0.9),
          tags: some(TAGS),
          state: { type: taskState, name: maybe(() => pick(STATE_NAMES), 0.3) },
        } as never);
        ids.taskRuns.push(task.record.id);
      }
    }
    // Dangling references: a deleted task run that started sub-flows, a deleted deployment.
    await store.taskRuns.delete(ids.taskRuns[3]);
    await store.deployments.delete(ids.deployments[1]);
    await store.flowRuns.delete(ids.flowRuns[5]);

    // Copy every record into PostgreSQL as is.
    for (const f of store.flows.all()) await db.unsafe(insertSql('flow', FLOW_COLUMNS), flowRow(f));
    for (const d of store.deployments.all()) await db.unsafe(insertSql('deployment', DEPLOYMENT_COLUMNS), deploymentRow(d));
    for (const r of store.flowRuns.all()) await db.unsafe(insertSql('flow_run', FLOW_RUN_COLUMNS), flowRunRow(r));
    for (const t of store.taskRuns.all()) await db.unsafe(insertSql('task_run', TASK_RUN_COLUMNS), taskRunRow(t));
    for (const r of store.flowRuns.all()) for (const t of [r.start_time, r.expected_start_time, r.end_time, r.next_scheduled_start_time]) if (t !== null) times.push(t);
    for (const t of store.taskRuns.all()) for (const x of [t.start_time, t.expected_start_time, t.end_time]) if (x !== null) times.push(x);

    // Artifacts' run references: stored runs, deleted ones, unknown ones, none.
    await db.unsafe('CREATE TABLE art (n int PRIMARY KEY, flow_run_id text COLLATE "C", task_run_id text COLLATE "C")');
    for (let n = 0; n < 150; n++) {
      const fr = chance(0.8) ? pick(ids.flowRuns) : chance(0.5) ? UNKNOWN : null;
      const tr = chance(0.8) ? pick(ids.taskRuns) : chance(0.5) ? UNKNOWN : null;
      pairs.push([n, fr, tr]);
      await db.unsafe('INSERT INTO art VALUES ($1, $2, $3)', [n, fr, tr]);
    }
  });

  afterAll(async () => {
    await db?.close();
    await fresh?.drop();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // ── random filters ───────────────────────────────────────────────────────────────────────

  const op = () => maybe(() => pick(['and_', 'or_'] as const), 0.6);
  const list = <T>(items: readonly T[], max = 3) => (chance(0.1) ? [] : some(items, max).concat(chance(0.7) ? [pick(items)] : []));
  const time = () => {
    const t = chance(0.8) && times.length > 0 ? pick(times) + pick([0, 0, -1, 1, -5e6, 5e6]) : Date.now() * 1000 + Math.floor((random() - 0.5) * 1e10);
    return formatMicros(t);
  };
  const bounds = (withNull: boolean) =>
    strip({ before_: maybe(time), after_: maybe(time), is_null_: withNull ? maybe(() => chance(0.5)) : undefined });
  const tags = (withAny: boolean) => strip({ operator: op(), all_: maybe(() => list(TAGS)), any_: withAny ? maybe(() => list(TAGS)) : undefined, is_null_: maybe(() => chance(0.5), 0.3) });
  const name = () => strip({ any_: maybe(() => list(NAMES.map((n) => `${n}`).concat(storedNames()))), like_: maybe(() => pick(PATTERNS)) });
  const idList = (pool: string[]) => list([...pool, UNKNOWN]);
  let nameCache: string[] | undefined;
  const storedNames = () =>
    (nameCache ??= [
      ...[...store.flows.all()].map((f) => f.name),
      ...[...store.deployments.all()].map((d) => d.name),
      ...[...store.flowRuns.all()].map((r) => r.name),
      ...[...store.taskRuns.all()].map((t) => t.name),
    ]);

  function strip<T extends Record<string, unknown>>(o: T): T {
    for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    return o;
  }
  /** Some of the fields, each maybe present (sometimes as `{}`). */
  function fields(make: Record<string, () => unknown>, p = 0.3): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const operator = op();
    if (operator) out.operator = operator;
    for (const [key, value] of Object.entries(make)) if (chance(p)) out[key] = chance(0.1) ? {} : value();
    return out;
  }

  const flowFilter = () =>
    fields({
      id: () => strip({ any_: maybe(() => idList(ids.flows)), not_any_: maybe(() => idList(ids.flows)) }),
      deployment: () => strip({ is_null_: maybe(() => chance(0.5), 0.8) }),
      name,
      tags: () => tags(false),
    });
  const deploymentFilter = () =>
    fields({
      id: () => strip({ any_: maybe(() => idList(ids.deployments)), not_any_: maybe(() => idList(ids.deployments)) }),
      name,
      flow_or_deployment_name: () => strip({ like_: maybe(() => pick(PATTERNS), 0.8) }),
      paused: () => strip({ eq_: maybe(() => chance(0.5), 0.8) }),
      tags: () => tags(true),
      work_queue_name: () => strip({ any_: maybe(() => list(QUEUES), 0.8) }),
      concurrency_limit: () => strip({ ge_: maybe(() => Math.floor(random() * 5)), le_: maybe(() => Math.floor(random() * 5)), is_null_: maybe(() => chance(0.5)) }),
    });
  const stateFilter = (withNotAny: boolean) =>
    strip({
      operator: op(),
      type: maybe(() => strip({ any_: maybe(() => list(STATES)), not_any_: withNotAny ? maybe(() => list(STATES)) : undefined })),
      name: maybe(() => strip({ any_: maybe(() => list(STATE_NAMES)), not_any_: withNotAny ? maybe(() => list(STATE_NAMES)) : undefined })),
    });
  const flowRunFilter = () =>
    fields({
      id: () => strip({ any_: maybe(() => idList(ids.flowRuns)), not_any_: maybe(() => idList(ids.flowRuns)) }),
      name,
      tags: () => tags(true),
      deployment_id: () => strip({ operator: op(), any_: maybe(() => idList(ids.deployments)), is_null_: maybe(() => chance(0.5)) }),
      work_queue_name: () => strip({ operator: op(), any_: maybe(() => list(QUEUES)), is_null_: maybe(() => chance(0.5)) }),
      state: () => stateFilter(true),
      flow_version: () => strip({ any_: maybe(() => list(VERSIONS), 0.8) }),
      start_time: () => bounds(true),
      expected_start_time: () => bounds(false),
      next_scheduled_start_time: () => bounds(false),
      parent_flow_run_id: () => strip({ operator: op(), any_: maybe(() => idList(ids.flowRuns), 0.8) }),
      parent_task_run_id: () => strip({ operator: op(), any_: maybe(() => idList(ids.taskRuns)), is_null_: maybe(() => chance(0.5)) }),
      idempotency_key: () => strip({ any_: maybe(() => list(['key-1', 'key-2', 'key-3', 'key-10', 'nope'])), not_any_: maybe(() => list(['key-1', 'key-2', 'key-3', 'nope'])) }),
      end_time: () => bounds(true),
      created_by: () => strip({ operator: op(), id_: maybe(() => [UNKNOWN]), type_: maybe(() => ['x']), is_null_: maybe(() => chance(0.5)) }),
    });
  const taskRunFilter = () =>
    fields({
      id: () => strip({ any_: maybe(() => idList(ids.taskRuns), 0.8) }),
      name,
      tags: () => tags(false),
      state: () => stateFilter(false),
      start_time: () => bounds(true),
      expected_start_time: () => bounds(false),
      end_time: () => bounds(true),
      subflow_runs: () => strip({ exists_: maybe(() => chance(0.5), 0.8) }),
      flow_run_id: () => {
        const f: Record<string, unknown> = strip({ operator: op(), any_: maybe(() => idList(ids.flowRuns)) });
        const r = random();
        if (r < 0.3) f.is_null_ = true;
        else if (r < 0.6) f.is_null_ = false;
        else if (r < 0.8) f.is_null_ = null;
        return f;
      },
    });

  function runFilters(): RunFilters {
    const filters: Record<string, unknown> = {};
    if (chance(0.4)) filters.flows = flowFilter();
    if (chance(0.5)) filters.flow_runs = flowRunFilter();
    if (chance(0.4)) filters.task_runs = taskRunFilter();
    if (chance(0.35)) filters.deployments = deploymentFilter();
    if (chance(0.05)) filters.flows = null;
    return filters as RunFilters;
  }

  const ROUNDS = Number(process.env.DIFF_ROUNDS ?? 500);
  const NAMED = ['CREATED_DESC', 'UPDATED_DESC', 'NAME_ASC', 'NAME_DESC'];
  const RUN_SORTS = ['ID_DESC', 'START_TIME_ASC', 'START_TIME_DESC', 'EXPECTED_START_TIME_ASC', 'EXPECTED_START_TIME_DESC', 'NAME_ASC', 'NAME_DESC', 'NEXT_SCHEDULED_START_TIME_ASC', 'END_TIME_DESC'];
  const page = () => (chance(0.6) ? { offset: 0, limit: 1000 } : { offset: Math.floor(random() * 10), limit: 1 + Math.floor(random() * 15) });

  function expectSame(what: string, filters: unknown, lmdb: unknown, pg: unknown) {
    if (JSON.stringify(lmdb) !== JSON.stringify(pg)) {
      throw new Error(`${what} differs for ${JSON.stringify(filters)}\nLMDB: ${JSON.stringify(lmdb)}\nPG:   ${JSON.stringify(pg)}`);
    }
  }

  test('the world is varied enough to mean something', () => {
    expect(ids.flowRuns.length).toBeGreaterThan(50);
    expect(ids.taskRuns.length).toBeGreaterThan(40);
    expect([...store.flowRuns.all()].some((r) => r.parent_task_run_id !== null)).toBe(true);
    expect([...store.flowRuns.all()].some((r) => r.end_time !== null)).toBe(true);
  });

  test(`flows, flow runs, task runs, deployments: ${ROUNDS} random filters, sorts and pages`, async () => {
    const repos = { flows: new PostgresFlows(db), flowRuns: new PostgresFlowRuns(db), taskRuns: new PostgresTaskRuns(db), deployments: new PostgresDeployments(db) };
    const nonEmpty = { flows: 0, flowRuns: 0, taskRuns: 0, deployments: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const filters = runFilters();
      const lmdbFilters = filters as never;
      const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
      {
        const sort = pick(NAMED);
        const pg = page();
        expectSame(`flows ${sort} ${JSON.stringify(pg)}`, filters, ids(findFlows(store, lmdbFilters, sort as never, pg)), ids(await repos.flows.find(filters, sort, pg)));
        const n = countFlows(store, lmdbFilters);
        expectSame('flow count', filters, n, await repos.flows.count(filters));
        if (n > 0) nonEmpty.flows++;
      }
      {
        const sort = pick(NAMED);
        const pg = page();
        expectSame(`deployments ${sort}`, filters, ids(findDeployments(store, lmdbFilters, sort as never, pg)), ids(await repos.deployments.find(filters, sort, pg)));
        const n = countDeployments(store, lmdbFilters);
        expectSame('deployment count', filters, n, await repos.deployments.count(filters));
        if (n > 0) nonEmpty.deployments++;
      }
      {
        const sort = pick(RUN_SORTS);
        const pg = page();
        expectSame(`flow runs ${sort}`, filters, ids(findFlowRuns(store, lmdbFilters, sort, pg)), ids(await repos.flowRuns.find(filters, sort, pg)));
        const n = countFlowRuns(store, lmdbFilters);
        expectSame('flow run count', filters, n, await repos.flowRuns.count(filters));
        if (n > 0) nonEmpty.flowRuns++;
      }
      {
        const sort = pick(RUN_SORTS);
        const pg = page();
        expectSame(`task runs ${sort}`, filters, ids(findTaskRuns(store, lmdbFilters, sort, pg)), ids(await repos.taskRuns.find(filters, sort, pg)));
        const n = countTaskRuns(store, lmdbFilters);
        expectSame('task run count', filters, n, await repos.taskRuns.count(filters));
        if (n > 0) nonEmpty.taskRuns++;
      }
    }
    console.log(`companion rounds with matches: ${JSON.stringify(nonEmpty)} of ${ROUNDS}`);
    // Filters that match nothing everywhere would prove little.
    for (const n of Object.values(nonEmpty)) expect(n).toBeGreaterThan(ROUNDS / 5);
  }, 300_000);

  test(`runConditions: ${ROUNDS} random run filters over artifact run references equal resolveRunSets`, async () => {
    let nonEmpty = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const filters = runFilters();
      const sets = resolveRunSets(store, filters as never);
      const expected = pairs
        .filter(([, fr, tr]) => (!sets.flowRunIds || (fr !== null && sets.flowRunIds.has(fr))) && (!sets.taskRunIds || (tr !== null && sets.taskRunIds.has(tr))))
        .map(([n]) => n);
      const p = new Params();
      const condition = runConditions(filters, p, 'x.flow_run_id', 'x.task_run_id');
      const noneApply = !filters.flows && !filters.flow_runs && !filters.task_runs && !filters.deployments;
      expect(condition === null).toBe(noneApply);
      const rows = await db.unsafe<{ n: number }>(`SELECT n FROM art x WHERE ${condition ?? 'TRUE'} ORDER BY n`, p.values);
      expectSame('artifacts', filters, expected, rows.map((r) => Number(r.n)));
      if (expected.length > 0 && expected.length < pairs.length) nonEmpty++;
    }
    console.log(`runConditions rounds with some but not all artifacts: ${nonEmpty} of ${ROUNDS}`);
    expect(nonEmpty).toBeGreaterThan(ROUNDS / 5);
  }, 300_000);
});
