/**
 * `resolveRunSets` against brute force: on random stores (flows, deployments — some deleted or
 * never stored —, flow runs with tags, names — long ones hashed, duplicates, renames —, several
 * states over time moving start/expected/end times, parent task runs, task runs, retags and
 * deletes) and random run filters (every sub-filter, `and_`/`or_` at each level, time bounds on
 * stored instants, empty objects, nulls),
 * the resolved id sets hold exactly the runs `flowRunSide` / `compileTaskRunFilter` accept over
 * every stored run: by iteration (each id once, twice alike), by `has`, and with `size` never
 * below the true count, `has` asked before and after iterating. Each filter is resolved twice:
 * with the defaults (small intersections and unions built as Sets) and with every set left lazy
 * (time ranges answering `has` from records, never listed until iterated).
 */
import { afterEach, expect, test } from 'bun:test';
import fc from 'fast-check';
import { rmSync } from 'node:fs';
import { compileTaskRunFilter } from '../../../../src/filters/runs.ts';
import { filterContext, flowRunSide, resolveRunSets, type IdSet, type RunFilters } from '../../../../src/store/lmdb/query/runs.ts';
import { indexString } from '../../../../src/store/index-keys.ts';
import { LmdbStore as Store } from '../../../../src/store/lmdb/store.ts';
import { formatMicros } from '../../../../src/time.ts';
import { tempDir } from '../../../helpers.ts';

const STATES = ['SCHEDULED', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
// 12 tags so a tags.any_ list can pass the 8 prefixes past which `has` reads the record.
const TAGS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'x'.repeat(500), 'nul\0tag'];
const TASK_TAGS = ['io', 'cpu', 'gpu', 'y'.repeat(500), 'nul\0io'];
const UNKNOWN = '0f0f0f0f-0000-4000-8000-00000000ffff';
const TIMES = ['2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z'];
/** Scheduled times a SCHEDULED state gives a run as its expected start (inclusive bounds meet them exactly). */
const SCHEDULES = ['1999-12-31T23:59:59.999999Z', '2000-01-01T00:00:00Z', '2050-06-01T12:00:00.5Z', '2100-01-01T00:00:00Z'];
/** Names the name index hashes (long, or holding a NUL), and ones several runs share. */
const ODD_NAMES = ['x'.repeat(500) + '-Late', 'nul\0late', 'dup', 'Dup', 'Ünïcode-late'];

/** Custom state names (some hashed by the state-name index) beside the defaults ('Running', 'Failed', …). */
const STATE_NAMES = ['Late', 'Retrying', 'z'.repeat(500), 'nul\0state'];
/** A state of any type, with a custom name one time in five. */
const someState = (rand: () => number, pick: <T>(xs: readonly T[]) => T) => {
  const state: Record<string, unknown> = rand() < 0.2 ? { type: 'SCHEDULED', state_details: { scheduled_time: pick(SCHEDULES) } } : { type: pick(STATES) };
  if (rand() < 0.2) state.name = pick(STATE_NAMES);
  return state;
};

/** A small deterministic PRNG: the world is built from a seed, the filters come from fast-check. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface World {
  flowIds: string[];
  flowNames: string[];
  deploymentIds: string[];
  deploymentNames: string[];
  runIds: string[];
  taskIds: string[];
  /** flow runs whose task runs started sub-flow runs, and those task runs */
  parentRunIds: string[];
  parentTaskIds: string[];
  /** an instant between the first and the last run written */
  midway: string;
  /** start, expected start and end times some runs have, exactly */
  instants: string[];
  runNames: string[];
}

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

async function buildWorld(store: Store, seed: number, runs: number, flows: number): Promise<World> {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const some = <T>(items: readonly T[], max: number): T[] => Array.from({ length: Math.floor(rand() * (max + 1)) }, () => pick(items));
  const w: World = { flowIds: [], flowNames: [], deploymentIds: [], deploymentNames: [], runIds: [], taskIds: [], parentRunIds: [], parentTaskIds: [], midway: TIMES[0], instants: [], runNames: [] };

  for (let i = 0; i < flows; i++) {
    const name = `${pick(['etl', 'ml', 'Report'])}-${i}`;
    const flow = (await store.flows.create({ name, tags: some(['db', 'prod'], 2) } as never)).record;
    w.flowIds.push(flow.id);
    w.flowNames.push(name);
  }
  const deploymentCount = Math.floor(rand() * Math.min(12, flows * 2));
  for (let i = 0; i < deploymentCount; i++) {
    const name = `dep-${i}-${pick(['nightly', 'adhoc'])}`;
    const d = (
      await store.deployments.create({
        name,
        flow_id: pick(w.flowIds),
        paused: rand() < 0.3,
        tags: some(['prod', 'eu'], 2),
        work_queue_name: rand() < 0.5 ? 'q-a' : null,
        concurrency_limit: rand() < 0.5 ? Math.floor(rand() * 4) : null,
      } as never)
    ).record;
    w.deploymentIds.push(d.id);
    w.deploymentNames.push(name);
  }
  const ghost = '0f0f0f0f-0000-4000-8000-00000000d001';
  for (let i = 0; i < runs; i++) {
    if (i === Math.floor(runs / 2)) w.midway = new Date().toISOString();
    const parent = w.taskIds.length > 0 && rand() < 0.4 ? pick(w.taskIds) : null;
    const deployment = rand() < 0.5 ? null : rand() < 0.85 && w.deploymentIds.length > 0 ? pick(w.deploymentIds) : ghost;
    const run = (
      await store.flowRuns.create({
        flow_id: pick(w.flowIds),
        name: rand() < 0.25 ? pick(ODD_NAMES) : `${pick(['happy', 'sad', 'Late'])}-${i}`,
        tags: some(TAGS, 5),
        state: someState(rand, pick),
        deployment_id: deployment,
        parent_task_run_id: parent,
        flow_version: rand() < 0.5 ? pick(['1.0', '2.0']) : null,
        work_queue_name: rand() < 0.5 ? 'q-a' : null,
        idempotency_key: rand() < 0.3 ? `key-${i}` : null,
      } as never)
    ).record;
    w.runIds.push(run.id);
    for (let k = rand() < 0.5 ? Math.floor(rand() * 3) + 1 : 0; k > 0; k--) {
      // Task runs with states (or none), tags (long and odd ones hashed) and names (some shared, some hashed).
      const task = await store.taskRuns.create({
        flow_run_id: rand() < 0.85 ? run.id : null,
        task_key: `task-${i}`,
        dynamic_key: `${k}`,
        name: rand() < 0.3 ? pick(ODD_NAMES) : pick(['extract', 'load', `load-${i}`]),
        tags: some(TASK_TAGS, 3),
        ...(rand() < 0.15 ? {} : { state: rand() < 0.2 ? { type: pick(STATES), name: pick(STATE_NAMES) } : { type: pick(STATES) } }),
      } as never);
      w.taskIds.push(task.record.id);
    }
    // States over time: each moves start, end and next scheduled times (a terminal state ends a
    // started run, a later non-terminal one clears its end).
    for (let k = Math.floor(rand() * 4); k > 0; k--) {
      await store.flowRuns.setState(run.id, someState(rand, pick) as never);
    }
    if (rand() < 0.15) await store.flowRuns.update(run.id, { tags: some(TAGS, 3) } as never);
    if (rand() < 0.1) await store.flowRuns.update(run.id, { name: pick(ODD_NAMES) } as never);
  }
  // Deletes: a run (its task runs go), a task run (its sub-flow runs lose their parent), a
  // deployment (its scheduled runs go, the rest keep a dangling id), sometimes a whole flow.
  const gone = async (ids: string[], remove: (id: string) => Promise<boolean>) => {
    if (ids.length > 0 && rand() < 0.5) await remove(pick(ids));
  };
  await gone(w.runIds, (id) => store.flowRuns.delete(id));
  await gone(w.taskIds, (id) => store.taskRuns.delete(id));
  await gone(w.deploymentIds, (id) => store.deployments.delete(id));
  if (flows > 1 && rand() < 0.3) await store.flows.delete(pick(w.flowIds));
  for (const run of store.flowRuns.all()) {
    for (const t of [run.start_time, run.expected_start_time, run.end_time]) if (t !== null && rand() < 0.2) w.instants.push(formatMicros(t));
    w.runNames.push(run.name);
    const task = run.parent_task_run_id === null ? undefined : store.taskRuns.get(run.parent_task_run_id);
    if (task) w.parentTaskIds.push(task.id);
    if (task?.flow_run_id) w.parentRunIds.push(task.flow_run_id);
  }
  expect(store.check()).toEqual([]);
  return w;
}

// ── random filters over a world's values ────────────────────────────────────────────────────

const operator = fc.constantFrom(undefined, null, 'and_' as const, 'or_' as const);
const list = <T>(items: readonly T[], maxLength = 3) => fc.array(fc.constantFrom(...items), { maxLength });
/**
 * An object holding at most `most` of `fields` (so that filters stay loose enough to match
 * something), each a value or now and then null; `operator` is drawn on its own.
 */
function obj<T extends Record<string, fc.Arbitrary<unknown>>>(fields: T, most = 2, least = 0) {
  const { operator: op, ...rest } = fields;
  const names = Object.keys(rest);
  return fc
    .tuple(op ?? fc.constant(undefined), fc.subarray(names, { minLength: least, maxLength: Math.min(most, names.length) }))
    .chain(([operatorValue, chosen]) =>
      fc.tuple(...chosen.map((name) => fc.oneof({ arbitrary: fc.constant(null), weight: 1 }, { arbitrary: rest[name], weight: 6 }))).map((values) => {
        const out: Record<string, unknown> = {};
        if (operatorValue !== undefined) out.operator = operatorValue;
        chosen.forEach((name, i) => (out[name] = values[i]));
        return out;
      }),
    );
}
const ids = (pool: string[], maxLength = 3) => list([...pool, UNKNOWN], maxLength);
const times = (w: World) => list([...TIMES, ...SCHEDULES, w.midway, ...w.instants], 1).map((xs) => xs[0] ?? TIMES[0]);
const bounds = (w: World, withNull: boolean) =>
  obj(withNull ? { before_: times(w), after_: times(w), is_null_: fc.boolean() } : { before_: times(w), after_: times(w) });
const like = fc.constantFrom('', 'a', 'E', '%p', 'd_1', 'late', 'nightly', 'xx', 'x%-l', 'dup', 'ü', 'L_te');

/** Flow-run sub-filters an index can answer, and the rest; a filter draws from the first more often. */
const indexedFlowRunFields = (w: World) => ({
  id: obj({ any_: ids(w.runIds), not_any_: ids(w.runIds) }),
  tags: obj({ operator, all_: list(TAGS), any_: list(TAGS, 12), is_null_: fc.boolean() }),
  deployment_id: obj({ operator, any_: ids(w.deploymentIds), is_null_: fc.boolean() }),
  state: obj({
    operator,
    type: obj({ any_: list(STATES), not_any_: list(STATES) }),
    name: obj({ any_: list(['Running', 'Failed', 'Completed', 'Scheduled', 'nope', ...STATE_NAMES]), not_any_: list(['Running', 'Failed', 'Late']) }),
  }),
  parent_flow_run_id: obj({ operator, any_: ids([...w.runIds, ...w.parentRunIds, ...w.parentRunIds]) }),
  parent_task_run_id: obj({ operator, any_: ids([...w.taskIds, ...w.parentTaskIds, ...w.parentTaskIds]), is_null_: fc.boolean() }),
  name: obj({ any_: list([...w.runNames.slice(0, 6), ...ODD_NAMES, 'happy-0', 'nope']), like_: like }),
  start_time: bounds(w, true),
  expected_start_time: bounds(w, false),
  end_time: bounds(w, true),
});
const flowRunFilter = (w: World) =>
  fc.oneof(
    obj({ operator, ...indexedFlowRunFields(w) }, 3),
    // `or_` of conditions indexes answer: a union of their sets.
    obj({ operator: fc.constant('or_' as const), ...indexedFlowRunFields(w) }, 3, 2),
    obj({
      operator,
      ...indexedFlowRunFields(w),
      work_queue_name: obj({ operator, any_: list(['q-a', 'q-b']), is_null_: fc.boolean() }),
      flow_version: obj({ any_: list(['1.0', '2.0']) }),
      next_scheduled_start_time: bounds(w, false),
      idempotency_key: obj({ any_: list(['key-0', 'key-1', 'key-3']), not_any_: list(['key-0', 'key-2']) }),
      created_by: obj({ operator, id_: ids([]), type_: list(['USER']), is_null_: fc.boolean() }),
    }, 3),
  );

/** Task-run sub-filters as Prefect 3.0.0 has them (no tags.any_, no state not_any_). */
const taskRunFields = (w: World) => ({
  id: obj({ any_: ids(w.taskIds) }),
  name: obj({ any_: list(['extract', 'load', 'load-1', 'nope', ...ODD_NAMES]), like_: like }),
  tags: obj({ operator, all_: list(TASK_TAGS), is_null_: fc.boolean() }),
  state: obj({ operator, type: obj({ any_: list(STATES) }), name: obj({ any_: list(['Running', 'Failed', 'Completed', 'nope', ...STATE_NAMES]) }) }),
  start_time: bounds(w, true),
  expected_start_time: bounds(w, false),
  subflow_runs: obj({ exists_: fc.boolean() }),
  flow_run_id: obj({ operator, any_: ids(w.runIds), is_null_: fc.boolean() }),
  end_time: bounds(w, true),
});
const taskRunFilter = (w: World) =>
  fc.oneof(
    obj({ operator, ...taskRunFields(w) }, 3),
    // `or_` of conditions: a union of their sets (or a residual test when one needs every record).
    obj({ operator: fc.constant('or_' as const), ...taskRunFields(w) }, 3, 2),
  );

const flowFilter = (w: World) =>
  obj({
    operator,
    id: obj({ any_: ids(w.flowIds), not_any_: ids(w.flowIds) }),
    deployment: obj({ operator, is_null_: fc.boolean() }),
    name: obj({ any_: list([...w.flowNames, 'nope']), like_: like }),
    tags: obj({ operator, all_: list(['db', 'prod']), is_null_: fc.boolean() }),
  }, 3);

const deploymentFilter = (w: World) =>
  obj({
    operator,
    id: obj({ any_: ids(w.deploymentIds), not_any_: ids(w.deploymentIds) }),
    name: obj({ any_: list([...w.deploymentNames, 'nope']), like_: like }),
    flow_or_deployment_name: obj({ like_: like }),
    paused: obj({ eq_: fc.boolean() }),
    tags: obj({ operator, all_: list(['prod', 'eu']), any_: list(['prod', 'eu']), is_null_: fc.boolean() }),
    work_queue_name: obj({ any_: list(['q-a', 'q-b']) }),
    concurrency_limit: obj({ ge_: fc.integer({ min: 0, max: 3 }), le_: fc.integer({ min: 0, max: 3 }), is_null_: fc.boolean() }),
  }, 3);

const runFilters = (w: World) =>
  obj({ flow_runs: flowRunFilter(w), task_runs: taskRunFilter(w), flows: flowFilter(w), deployments: deploymentFilter(w) }, 3, 1);

// ── the comparison ───────────────────────────────────────────────────────────────────────────

function expectSame(label: string, set: IdSet | undefined, expected: Set<string> | undefined, probe: string[], unlisted?: IdSet): void {
  if (expected === undefined) {
    expect(set, label).toBeUndefined();
    return;
  }
  expect(set, label).toBeDefined();
  // `has` before any iteration (a lazy set has listed nothing yet).
  for (const id of probe) expect(unlisted!.has(id), `${label}: has(${id}) before iterating`).toBe(expected.has(id));
  const listed = [...set!];
  expect(listed.length, `${label}: each id once`).toBe(new Set(listed).size);
  expect(listed.sort(), label).toEqual([...expected].sort());
  expect([...set!].sort(), `${label}: iterated again`).toEqual(listed);
  for (const id of probe) expect(set!.has(id), `${label}: has(${id})`).toBe(expected.has(id));
  expect(set!.size, `${label}: size`).toBeGreaterThanOrEqual(expected.size);
}

function bruteForce(store: Store, filters: RunFilters) {
  const ctx = filterContext(store);
  let flowRunIds: Set<string> | undefined;
  if (filters.flow_runs || filters.flows || filters.deployments) {
    const side = flowRunSide(store, filters, ctx);
    flowRunIds = new Set([...store.flowRuns.all()].filter(side).map((r) => r.id));
  }
  let taskRunIds: Set<string> | undefined;
  if (filters.task_runs) {
    const test = compileTaskRunFilter(filters.task_runs, ctx);
    taskRunIds = new Set([...store.taskRuns.all()].filter(test).map((t) => t.id));
  }
  return { flowRunIds, taskRunIds };
}

/** Worlds by their parameters, kept open so that shrinking a filter does not rebuild its world. */
const worlds = new Map<string, Promise<{ store: Store; w: World }>>();
const WORLDS_KEPT = 12;
function world(seed: number, runs: number, flows: number) {
  const id = `${seed}:${runs}:${flows}`;
  let made = worlds.get(id);
  if (!made) {
    if (worlds.size >= WORLDS_KEPT) {
      const [oldest, closing] = worlds.entries().next().value!;
      worlds.delete(oldest);
      void closing.then(({ store }) => store.close());
    }
    const dir = tempDir();
    dirs.push(dir);
    made = (async () => {
      const store = Store.open(dir);
      return { store, w: await buildWorld(store, seed, runs, flows) };
    })();
    worlds.set(id, made);
  }
  return made;
}

const FILTERS_PER_WORLD = 100;
const WORLDS = 15;

test('resolved run sets equal brute force over every run, for random stores and filters', async () => {
  let checked = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.noBias(fc.integer({ min: 3, max: 33 })), fc.noBias(fc.integer({ min: 1, max: 11 })), fc.gen(), async (seed, runs, flows, gen) => {
        const { store, w } = await world(seed, runs, flows);
        const probe = [...w.runIds, ...w.taskIds, UNKNOWN];
        for (let i = 0; i < FILTERS_PER_WORLD; i++) {
          const filters = gen(runFilters, w) as RunFilters;
          const want = bruteForce(store, filters);
          for (const options of [{}, { buildAtMost: -1 }, { lazyScans: true }, { lazyScans: true, buildAtMost: -1 }]) {
            const got = resolveRunSets(store, filters, options);
            const unlisted = resolveRunSets(store, filters, options);
            const label = `${JSON.stringify(filters)} (${JSON.stringify(options)})`;
            expectSame(`flow runs of ${label}`, got.flowRunIds, want.flowRunIds, probe, unlisted.flowRunIds);
            expectSame(`task runs of ${label}`, got.taskRunIds, want.taskRunIds, probe, unlisted.taskRunIds);
          }
          checked++;
        }
      }),
      // Shrinking rebuilds worlds (durable writes): bounded, so that a failure is reported in time.
      { numRuns: WORLDS, interruptAfterTimeLimit: 40_000 },
    );
  } finally {
    for (const made of worlds.values()) await (await made).store.close();
    worlds.clear();
  }
  expect(checked).toBe(WORLDS * FILTERS_PER_WORLD);
});

test('the measured shapes resolve without decoding a run', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const store = Store.open(dir);
  try {
    const w = await buildWorld(store, 7, 20, 3);
    // More runs, so that a one-run set is cheaper to test than every name is to read.
    const flowId = store.flowRuns.get(w.runIds.find((id) => store.flowRuns.get(id))!)!.flow_id;
    for (let i = 0; i < 20; i++) await store.flowRuns.create({ flow_id: flowId, name: `more-${i}`, state: { type: 'RUNNING' } } as never);
    // Names the index hashes are the only records a name pattern reads.
    const hashed = new Set([...store.flowRuns.all()].filter((r) => indexString(r.name).startsWith('h')).map((r) => r.id));
    const decodes = { n: 0 };
    const get = store.dbs.flowRuns.get.bind(store.dbs.flowRuns);
    store.dbs.flowRuns.get = ((id: string) => {
      if (!hashed.has(id)) decodes.n++;
      return get(id);
    }) as typeof store.dbs.flowRuns.get;
    const shapes: RunFilters[] = [
      { flows: { name: { any_: [w.flowNames[0]] } } },
      { flow_runs: { tags: { all_: ['a', 'b'] } } },
      { flow_runs: { tags: { any_: ['a', 'b'] } } },
      { flow_runs: { state: { type: { any_: ['FAILED'] } } } },
      { flow_runs: { state: { name: { any_: ['Completed', 'Late'] } } } },
      { flow_runs: { state: { type: { any_: ['SCHEDULED'] }, name: { any_: ['Late'] } }, tags: { all_: ['a'] } } },
      { flow_runs: { operator: 'or_', state: { name: { any_: ['Failed'] } }, tags: { all_: ['a'] } } },
      { flow_runs: { state: { type: { not_any_: ['FAILED'] } }, deployment_id: { any_: w.deploymentIds } } },
      { flows: {}, deployments: {}, flow_runs: { parent_task_run_id: { any_: w.taskIds.slice(0, 8) }, parent_flow_run_id: { any_: w.runIds } } },
      { flow_runs: { operator: 'or_', tags: { all_: ['a'] } }, deployments: { paused: { eq_: false } } },
      { flow_runs: { start_time: { after_: w.midway } } },
      { flow_runs: { expected_start_time: { before_: w.midway, after_: TIMES[0] }, end_time: { is_null_: true } } },
      { flow_runs: { name: { like_: 'happ' } } },
      { flow_runs: { operator: 'or_', state: { type: { any_: ['FAILED'] } }, tags: { all_: ['a'] } } },
      { flow_runs: { operator: 'or_', start_time: { after_: w.midway }, name: { like_: 'sad' }, id: { any_: w.runIds.slice(0, 3) } } },
    ] as RunFilters[];
    for (const filters of shapes) {
      // Iterated first: a time range's `has` reads a record until the range is listed.
      const set = resolveRunSets(store, filters).flowRunIds!;
      void [...set];
      for (const id of w.runIds) set.has(id);
      void set.size;
    }
    expect(decodes.n).toBe(0);
    // A large range asked about a few runs (the candidates of a small set) reads their records.
    const named = resolveRunSets(store, { flow_runs: { start_time: { is_null_: false }, name: { any_: ['happy-1', 'more-1'] } } } as RunFilters);
    expect([...named.flowRunIds!].length).toBeGreaterThan(0);
    expect(decodes.n).toBeLessThanOrEqual(2);
    decodes.n = 0;
    // A residual test decodes only the candidates of the smallest index set.
    resolveRunSets(store, { flow_runs: { id: { any_: w.runIds.slice(0, 2) }, work_queue_name: { any_: ['q-a'] } } } as RunFilters);
    expect(decodes.n).toBeLessThanOrEqual(2);
    // So does a name pattern when the other set is that small (rather than reading every name).
    const scanned = { n: 0 };
    const getKeys = store.dbs.flowRunsByName.getKeys.bind(store.dbs.flowRunsByName);
    store.dbs.flowRunsByName.getKeys = ((options: object) => {
      scanned.n++;
      return getKeys(options);
    }) as typeof store.dbs.flowRunsByName.getKeys;
    decodes.n = 0;
    const more = [...store.flowRuns.all()].find((r) => r.name === 'more-0')!.id;
    const one = resolveRunSets(store, { flow_runs: { id: { any_: [more] }, name: { like_: 'E-' } } } as RunFilters);
    expect([[...one.flowRunIds!], decodes.n, scanned.n]).toEqual([[more], 1, 0]);

    // Task runs: state, tags, names (any_ and like_) and or_ of them read no task-run record
    // (but those whose names are hashed, for like_).
    const hashedTasks = new Set([...store.taskRuns.all()].filter((t) => indexString(t.name).startsWith('h')).map((t) => t.id));
    const taskDecodes = { n: 0 };
    const getTask = store.dbs.taskRuns.get.bind(store.dbs.taskRuns);
    store.dbs.taskRuns.get = ((id: string) => {
      if (!hashedTasks.has(id)) taskDecodes.n++;
      return getTask(id);
    }) as typeof store.dbs.taskRuns.get;
    const taskShapes: RunFilters[] = [
      { task_runs: { state: { type: { any_: ['FAILED'] } } } },
      { task_runs: { state: { name: { any_: ['Failed', 'Retrying'] } } } },
      { task_runs: { tags: { all_: ['io', 'cpu'] } } },
      { task_runs: { name: { any_: ['extract'] } } },
      { task_runs: { name: { like_: 'LOA' } } },
      { task_runs: { operator: 'or_', state: { type: { any_: ['FAILED', 'RUNNING'] } }, tags: { all_: ['io'] }, name: { like_: 'ext' } } },
    ] as RunFilters[];
    for (const filters of taskShapes) {
      const set = resolveRunSets(store, filters).taskRunIds!;
      void [...set];
      for (const id of w.taskIds) set.has(id);
      void set.size;
    }
    expect(taskDecodes.n).toBe(0);
  } finally {
    await store.close();
  }
});
