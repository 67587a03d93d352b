/**
 * Import into a store, record by record: collections follow the newest version whatever the
 * order of the lines, collections keep their exported identity, existing records are never
 * overwritten, rules the API enforces are enforced, sub-flow runs get their parent at the end,
 * and a record that fails mid-write leaves nothing behind.
 */
import { afterEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { Importer, openExport, type Numbered } from '../../../src/store/lmdb/transfer.ts';
import { parseLine } from '../../../src/transfer/format.ts';
import { tempDir } from '../../helpers.ts';

const opened: { store: Store; dir: string }[] = [];
afterEach(async () => {
  for (const { store, dir } of opened.splice(0)) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
function fresh(): Store {
  const dir = tempDir();
  const store = Store.open(dir);
  opened.push({ store, dir });
  return store;
}

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const time = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000001Z`;
const artifact = (n: number, key: string | null, second: number, extra: Record<string, unknown> = {}) => ({
  kind: 'artifact',
  record: { id: ID(n), created: time(second), updated: time(second), key, type: 'markdown', description: null, data: n, metadata_: null, flow_run_id: null, task_run_id: null, ...extra },
});

/** Parses lines (objects or raw text) and imports them; returns the outcomes by line. */
async function importLines(store: Store, lines: (object | string)[]) {
  const importer = new Importer(store);
  const batch: Numbered[] = [];
  const outcomes: Record<number, unknown> = {};
  lines.forEach((line, i) => {
    const parsed = parseLine(typeof line === 'string' ? line : JSON.stringify(line));
    if (!parsed.ok) outcomes[i + 1] = { error: parsed.reason };
    else if ('item' in parsed) batch.push({ line: i + 1, item: parsed.item });
  });
  (await importer.write(batch)).forEach((o, i) => (outcomes[batch[i].line] = o));
  for (const { line, outcome } of await importer.finish()) outcomes[line] = outcome;
  return outcomes;
}

test('the newest version by created is latest, whatever order the lines come in', async () => {
  const store = fresh();
  await importLines(store, [artifact(3, 'k', 30), artifact(1, 'k', 10), artifact(2, 'k', 20)]);
  expect(store.artifacts.latestByKey('k')?.latestId).toBe(ID(3));
  expect(store.counts()).toMatchObject({ artifacts: 3, collections: 1 });
  expect(store.check()).toEqual([]);
});

test("a collection line gives the key's collection its exported id and created", async () => {
  const store = fresh();
  const collection = { kind: 'collection', record: { id: ID(99), created: time(5), updated: time(20), key: 'k', latest_id: ID(2) } };
  await importLines(store, [collection, artifact(1, 'k', 10), artifact(2, 'k', 20)]);
  const c = store.artifacts.latestByKey('k')!;
  expect(c.id).toBe(ID(99));
  expect(c.created).toBe(Date.UTC(2026, 0, 1, 0, 0, 5) * 1000 + 1);
  expect(c.updated).toBe(Date.UTC(2026, 0, 1, 0, 0, 20) * 1000 + 1);
  expect(c.latestId).toBe(ID(2));
  expect(store.check()).toEqual([]);
});

test('existing records are kept: equal ones count as unchanged, different ones as kept', async () => {
  const store = fresh();
  await importLines(store, [artifact(1, 'k', 10)]);
  const outcomes = await importLines(store, [artifact(1, 'k', 10), artifact(1, 'k', 10, { description: 'changed' })]);
  expect(outcomes).toEqual({ 1: 'unchanged', 2: 'kept' });
  expect(store.artifacts.get(ID(1))?.description).toBeNull();
  expect(store.counts().artifacts).toBe(1);
});

test('data is kept exactly as written, big integers and spacing included', async () => {
  const store = fresh();
  const line = `{"kind":"artifact","record":{"id":"${ID(1)}","created":"${time(1)}","updated":"${time(1)}","key":null,"type":null,"description":null,"data":{"n": 9007199254740993, "f": 1.50},"metadata_":null,"flow_run_id":null,"task_run_id":null}}`;
  await importLines(store, [line]);
  expect(store.artifacts.get(ID(1))?.data).toBe('{"n": 9007199254740993, "f": 1.50}');
});

const flow = (n: number, name: string) => ({ kind: 'flow', record: { id: ID(n), created: time(1), updated: time(1), name, tags: [], labels: {} } });

test('the rules the API enforces: unknown parents and taken names are refused with a reason', async () => {
  const store = fresh();
  const exported = await exportedLines(async (s) => {
    const f = (await s.flows.create({ name: 'etl', tags: [] } as never)).record;
    const run = (await s.flowRuns.create({ flow_id: f.id, idempotency_key: 'once' } as never)).record;
    await s.taskRuns.create({ flow_run_id: run.id, task_key: 't', dynamic_key: '0' } as never);
    await s.deployments.create({ name: 'd', flow_id: f.id } as never);
  });
  const byKind = (kind: string) => exported.find((l) => l.kind === kind)!;
  const withRecord = (line: { kind: string; record: Record<string, unknown> }, changes: Record<string, unknown>) => ({ ...line, record: { ...line.record, ...changes } });

  expect(await importLines(store, [flow(1, 'etl')])).toEqual({ 1: 'added' });
  const outcomes = await importLines(store, [
    byKind('flow'), // another flow named etl
    withRecord(byKind('deployment'), { flow_id: ID(7) }),
    withRecord(byKind('flow_run'), { flow_id: ID(7) }),
    withRecord(byKind('task_run'), { flow_run_id: ID(8) }),
    withRecord(byKind('flow_run'), { flow_id: ID(1) }), // fine: flow 1 exists
    withRecord(byKind('flow_run'), { id: ID(50), flow_id: ID(1) }), // same idempotency key in flow 1
  ]);
  expect(outcomes[1]).toEqual({ error: expect.stringContaining('the name "etl" belongs to flow') });
  expect(outcomes[2]).toEqual({ error: expect.stringContaining(`flow ${ID(7)} not found`) });
  expect(outcomes[3]).toEqual({ error: expect.stringContaining(`flow ${ID(7)} not found`) });
  expect(outcomes[4]).toEqual({ error: expect.stringContaining(`flow run ${ID(8)} not found`) });
  expect(outcomes[5]).toBe('added');
  expect(outcomes[6]).toEqual({ error: expect.stringContaining('idempotency key "once" belongs to flow run') });
  expect(store.counts()).toMatchObject({ flows: 1, flowRuns: 1, taskRuns: 0, deployments: 0 });
  expect(store.check()).toEqual([]);
});

test('a sub-flow run gets its parent task run once that is imported; a missing parent is reported', async () => {
  const source = fresh();
  const f = (await source.flows.create({ name: 'etl', tags: [] } as never)).record;
  const parentRun = (await source.flowRuns.create({ flow_id: f.id } as never)).record;
  const task = (await source.taskRuns.create({ flow_run_id: parentRun.id, task_key: 't', dynamic_key: '0' } as never)).record;
  const sub = (await source.flowRuns.create({ flow_id: f.id, parent_task_run_id: task.id } as never)).record;
  const lines = await exportedLines(undefined, source);

  const target = fresh();
  const outcomes = await importLines(target, lines);
  expect(Object.values(outcomes).every((o) => o === 'added')).toBe(true);
  expect(target.flowRuns.get(sub.id)?.parent_task_run_id).toBe(task.id);
  expect(target.check()).toEqual([]);

  const orphanTarget = fresh();
  const withoutTask = lines.filter((l) => l.kind !== 'task_run');
  const orphaned = await importLines(orphanTarget, withoutTask);
  const subLine = withoutTask.findIndex((l) => l.record.id === sub.id) + 1;
  expect(orphaned[subLine]).toEqual({ error: expect.stringContaining(`parent task run ${task.id} is neither in the store nor in the file`) });
  expect(orphanTarget.flowRuns.get(sub.id)?.parent_task_run_id).toBeNull();
  expect(orphanTarget.check()).toEqual([]);
});

test('a record that fails while being written leaves nothing of itself; the rest of its batch is kept', async () => {
  const store = fresh();
  const original = store.artifacts.putImported.bind(store.artifacts);
  store.artifacts.putImported = (record, identity) => {
    original(record, identity); // half of the work is done …
    if (record.id === ID(2)) throw new Error('disk on fire'); // … when this one fails
  };
  const outcomes = await importLines(store, [artifact(1, 'k', 10), artifact(2, 'k', 20), artifact(3, null, 30)]);
  expect(outcomes).toEqual({ 1: 'added', 2: { error: 'not written: disk on fire' }, 3: 'added' });
  expect(store.artifacts.get(ID(2))).toBeUndefined();
  expect(store.counts()).toMatchObject({ artifacts: 2, collections: 1 });
  expect(store.artifacts.latestByKey('k')?.latestId).toBe(ID(1));
  expect(store.check()).toEqual([]);
});

test('each bad line gets a reason naming the problem', () => {
  const reason = (line: string) => {
    const parsed = parseLine(line);
    return parsed.ok ? 'ok' : parsed.reason;
  };
  expect(reason('{"kind":')).toStartWith('not JSON');
  expect(reason('[1]')).toBe('not a JSON object');
  expect(reason('{"kind":"spaceship","record":{}}')).toStartWith('unknown kind "spaceship"');
  expect(reason('{"kind":"artifact"}')).toBe('record: Field required');
  expect(reason(JSON.stringify(artifact(1, 'k', 1, { id: 'nope' })))).toStartWith('artifact: record.id: Input should be a valid UUID');
  expect(reason(JSON.stringify(artifact(1, 'k', 1, { created: 'yesterday' })))).toContain('record.created: Value error, Unable to parse string [yesterday]');
  expect(reason(JSON.stringify(artifact(1, 'Not A Key', 1)))).toContain('record.key');
  expect(reason(JSON.stringify(artifact(1, 'k', 1, { colour: 'red' })))).toContain('record.colour: Extra inputs are not permitted');
  expect(reason(JSON.stringify({ kind: 'flow', record: { id: ID(1), created: time(1), updated: time(1), name: 'a/b', tags: [], labels: {} } }))).toContain('record.name');
  expect(reason(JSON.stringify(flow(1, 'etl')))).toBe('ok');
});

/** Exports a store (seeded by `fill`, or `store` as it is) and returns its record lines parsed. */
async function exportedLines(fill?: (s: Store) => Promise<void>, store?: Store): Promise<{ kind: string; record: Record<string, unknown> }[]> {
  const source = store ?? fresh();
  if (fill) await fill(source);
  const snapshot = openExport(source);
  try {
    return [...snapshot.lines].slice(1).map((l) => JSON.parse(l));
  } finally {
    snapshot.done();
  }
}

test("run lines leave out the read-time estimates, and only those: a run's own keys of that name stay", async () => {
  const source = fresh();
  const f = (await source.flows.create({ name: 'etl', tags: [] } as never)).record;
  const parameters = { estimated_run_time: 1, estimated_start_time_delta: 2, x: 'y' };
  const run = (await source.flowRuns.create({ flow_id: f.id, parameters, state: { type: 'RUNNING' } } as never)).record;
  const lines = await exportedLines(undefined, source);
  const line = lines.find((l) => l.kind === 'flow_run')!;
  expect(line.record.parameters).toEqual(parameters);
  expect('estimated_run_time' in line.record).toBe(false);
  expect('estimated_start_time_delta' in line.record).toBe(false);
  const target = fresh();
  await importLines(target, lines);
  expect(target.flowRuns.get(run.id)).toEqual(source.flowRuns.get(run.id)!);
});
