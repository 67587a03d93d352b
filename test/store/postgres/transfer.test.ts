/**
 * Export and import on PostgreSQL (src/store/postgres/transfer.ts), held to LMDB's behaviour:
 * the same outcome per line, the same collections whatever the order of the lines, collection
 * identities from collection lines, records never overwritten, the API's rules enforced,
 * sub-flow runs linked at the end, a failing record costing only its own line — and a
 * differential test: the same lines into LMDB and PostgreSQL give the same outcomes and the
 * same export. Export is one snapshot, however long it is read.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import type { ImportSession, Numbered, Outcome, Store } from '../../../src/store/contract.ts';
import { LmdbStore } from '../../../src/store/lmdb/store.ts';
import { PostgresStore } from '../../../src/store/postgres/store.ts';
import { parseLine } from '../../../src/transfer/format.ts';
import type { Event } from '../../../src/schemas/events.ts';
import type { FlowRunRecord, TaskRunRecord } from '../../../src/store/companion-records.ts';
import { eventRecord } from '../../../src/store/event-records.ts';
import { freshDatabase, testDatabaseUrl } from '../../postgres/cluster.ts';
import { tempDir } from '../../helpers.ts';

const url = await testDatabaseUrl();

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function pg(): Promise<PostgresStore> {
  const fresh = await freshDatabase('transfer');
  const store = await PostgresStore.open(fresh.url, { max: 4 });
  cleanups.push(async () => {
    await store.close();
    await fresh.drop();
  });
  return store;
}

function lmdb(): LmdbStore {
  const dir = tempDir();
  const store = LmdbStore.open(dir);
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const time = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000001Z`;
const micros = (second: number) => Date.UTC(2026, 0, 1, 0, 0, second) * 1000 + 1;
type Line = { kind: string; record: Record<string, unknown> };
const artifact = (n: number, key: string | null, second: number, extra: Record<string, unknown> = {}): Line => ({
  kind: 'artifact',
  record: { id: ID(n), created: time(second), updated: time(second), key, type: 'markdown', description: null, data: n, metadata_: null, flow_run_id: null, task_run_id: null, ...extra },
});
const collection = (n: number, key: string, second: number, latest: number): Line => ({
  kind: 'collection',
  record: { id: ID(n), created: time(second), updated: time(second), key, latest_id: ID(latest) },
});
const flow = (n: number, name: string): Line => ({ kind: 'flow', record: { id: ID(n), created: time(1), updated: time(1), name, tags: [], labels: {} } });

/** Parses lines (objects or raw text) and imports them in batches of `size`; the outcomes by line. */
async function importLines(store: Store, lines: (object | string)[], size = 2000): Promise<Record<number, Outcome>> {
  const importer: ImportSession = store.transfer.importer();
  const items: Numbered[] = [];
  const outcomes: Record<number, Outcome> = {};
  lines.forEach((line, i) => {
    const parsed = parseLine(typeof line === 'string' ? line : JSON.stringify(line));
    if (!parsed.ok) outcomes[i + 1] = { error: parsed.reason };
    else if ('item' in parsed) items.push({ line: i + 1, item: parsed.item });
  });
  for (let i = 0; i < items.length; i += size) {
    const batch = items.slice(i, i + size);
    (await importer.write(batch)).forEach((o, j) => (outcomes[batch[j].line] = o));
  }
  for (const { line, outcome } of await importer.finish()) outcomes[line] = outcome;
  return outcomes;
}

/** The export's lines: the header (parsed) and the record lines as text. */
async function exported(store: Store, now?: Date): Promise<{ header: any; lines: string[] }> {
  const snapshot = await store.transfer.openExport(now);
  try {
    const all: string[] = [];
    for await (const line of snapshot.lines) all.push(line);
    return { header: JSON.parse(all[0]), lines: all.slice(1) };
  } finally {
    await snapshot.done();
  }
}
const parsedLines = async (store: Store): Promise<Line[]> => (await exported(store)).lines.map((l) => JSON.parse(l));

describe.skipIf(url === null)('PostgreSQL transfer', () => {
  test('the newest version by created is latest, whatever order the lines come in', async () => {
    const store = await pg();
    await importLines(store, [artifact(3, 'k', 30), artifact(1, 'k', 10), artifact(2, 'k', 20)]);
    expect((await store.artifacts.latestByKey('k'))?.latestId).toBe(ID(3));
    expect(await store.counts()).toMatchObject({ artifacts: 3, collections: 1 });
    expect(await store.check()).toEqual([]);
    // Versions of one key spread over several batches, older ones last.
    const other = await pg();
    await importLines(other, [artifact(5, 'k', 40), artifact(4, 'k', 50), artifact(6, 'k', 20), artifact(7, 'k', 45)], 1);
    expect((await other.artifacts.latestByKey('k'))?.latestId).toBe(ID(4));
    expect(await other.check()).toEqual([]);
  });

  test("a collection line gives the key's collection its exported id and created", async () => {
    const store = await pg();
    await importLines(store, [collection(99, 'k', 5, 2), artifact(1, 'k', 10), artifact(2, 'k', 20)]);
    const c = (await store.artifacts.latestByKey('k'))!;
    expect(c.id).toBe(ID(99));
    expect(c.created).toBe(micros(5));
    expect(c.updated).toBe(micros(20));
    expect(c.latestId).toBe(ID(2));
    expect(await store.check()).toEqual([]);
    // The identity waits for the key's first artifact, batches later.
    const later = await pg();
    await importLines(later, [collection(98, 'j', 5, 3), artifact(4, null, 1), artifact(3, 'j', 10)], 1);
    expect((await later.artifacts.latestByKey('j'))?.id).toBe(ID(98));
    // Importing the collection line again: the same identity is unchanged, another one kept.
    expect(await importLines(later, [collection(98, 'j', 5, 3), collection(97, 'j', 5, 3)])).toEqual({ 1: 'unchanged', 2: 'kept' });
  });

  test('existing records are kept: equal ones count as unchanged, different ones as kept', async () => {
    const store = await pg();
    await importLines(store, [artifact(1, 'k', 10)]);
    const outcomes = await importLines(store, [artifact(1, 'k', 10), artifact(1, 'k', 10, { description: 'changed' })]);
    expect(outcomes).toEqual({ 1: 'unchanged', 2: 'kept' });
    expect((await store.artifacts.get(ID(1)))?.description).toBeNull();
    expect((await store.counts()).artifacts).toBe(1);
    // The same id twice in one batch: the second line meets the first.
    const fresh = await pg();
    expect(await importLines(fresh, [artifact(2, 'k', 10), artifact(2, 'k', 10), artifact(2, 'k', 10, { data: 3 })])).toEqual({ 1: 'added', 2: 'unchanged', 3: 'kept' });
  });

  test('data is kept exactly as written, big integers and spacing included', async () => {
    const store = await pg();
    const line = `{"kind":"artifact","record":{"id":"${ID(1)}","created":"${time(1)}","updated":"${time(1)}","key":"k","type":null,"description":"ünï ✓ \\"q\\"","data":{"n": 9007199254740993, "f": 1.50, "s": "\\u0000\\\\"},"metadata_":{"a":"1","b":"\\\\"},"flow_run_id":null,"task_run_id":null}}`;
    expect(await importLines(store, [line])).toEqual({ 1: 'added' });
    const record = (await store.artifacts.get(ID(1)))!;
    expect(record.data).toBe('{"n": 9007199254740993, "f": 1.50, "s": "\\u0000\\\\"}');
    expect(record.description).toBe('ünï ✓ "q"');
    expect(record.metadata).toEqual({ a: '1', b: '\\' });
    expect((await exported(store)).lines.at(-1)).toBe(line.replace('"metadata_":{"a":"1","b":"\\\\"}', '"metadata_":{"a":"1","b":"\\\\"}'));
  });

  test('the rules the API enforces: unknown parents and taken names are refused with a reason', async () => {
    const source = await pg();
    const f = (await source.flows.create({ name: 'etl', tags: [] } as never)).record;
    const run = (await source.flowRuns.create({ flow_id: f.id, idempotency_key: 'once' } as never)).record;
    await source.taskRuns.create({ flow_run_id: run.id, task_key: 't', dynamic_key: '0' } as never);
    await source.deployments.create({ name: 'd', flow_id: f.id } as never);
    const lines = await parsedLines(source);
    const byKind = (kind: string) => lines.find((l) => l.kind === kind)!;
    const withRecord = (line: Line, changes: Record<string, unknown>) => ({ ...line, record: { ...line.record, ...changes } });

    const store = await pg();
    expect(await importLines(store, [flow(1, 'etl')])).toEqual({ 1: 'added' });
    const outcomes = await importLines(store, [
      byKind('flow'), // another flow named etl
      withRecord(byKind('deployment'), { flow_id: ID(7) }),
      withRecord(byKind('flow_run'), { flow_id: ID(7) }),
      withRecord(byKind('task_run'), { flow_run_id: ID(8) }),
      withRecord(byKind('flow_run'), { flow_id: ID(1) }), // fine: flow 1 exists
      withRecord(byKind('flow_run'), { id: ID(50), flow_id: ID(1) }), // same idempotency key in flow 1
      withRecord(byKind('deployment'), { flow_id: ID(1) }), // fine
      withRecord(byKind('deployment'), { id: ID(51), flow_id: ID(1) }), // same name in flow 1
      withRecord(byKind('task_run'), {}), // fine: its flow run came above
      withRecord(byKind('task_run'), { id: ID(52) }), // same flow run, task key and dynamic key
      flow(53, 'etl'), // the name is taken by flow 1
    ]);
    expect(outcomes[1]).toEqual({ error: `flow ${f.id}: the name "etl" belongs to flow ${ID(1)} in the store` });
    expect(outcomes[2]).toEqual({ error: expect.stringContaining(`flow ${ID(7)} not found`) });
    expect(outcomes[3]).toEqual({ error: expect.stringContaining(`flow ${ID(7)} not found`) });
    expect(outcomes[4]).toEqual({ error: expect.stringContaining(`flow run ${ID(8)} not found`) });
    expect(outcomes[5]).toBe('added');
    expect(outcomes[6]).toEqual({ error: `flow_run ${ID(50)}: idempotency key "once" belongs to flow run ${run.id}` });
    expect(outcomes[7]).toBe('added');
    expect(outcomes[8]).toEqual({ error: expect.stringMatching(/^deployment .*: flow .* already has deployment .* named "d"$/) });
    expect(outcomes[9]).toBe('added');
    expect(outcomes[10]).toEqual({ error: expect.stringContaining('has the same flow run, task_key and dynamic_key') });
    expect(outcomes[11]).toEqual({ error: expect.stringContaining('the name "etl" belongs to flow') });
    expect(await store.counts()).toMatchObject({ flows: 1, flowRuns: 1, taskRuns: 1, deployments: 1 });
    expect(await store.check()).toEqual([]);
  });

  test('a sub-flow run gets its parent task run once that is imported; a missing parent is reported', async () => {
    const source = await pg();
    const f = (await source.flows.create({ name: 'etl', tags: [] } as never)).record;
    const parentRun = (await source.flowRuns.create({ flow_id: f.id } as never)).record;
    const task = (await source.taskRuns.create({ flow_run_id: parentRun.id, task_key: 't', dynamic_key: '0' } as never)).record;
    const sub = (await source.flowRuns.create({ flow_id: f.id, parent_task_run_id: task.id } as never)).record;
    const lines = await parsedLines(source);

    for (const size of [2000, 1]) {
      const target = await pg();
      const outcomes = await importLines(target, lines, size);
      expect(Object.values(outcomes).every((o) => o === 'added')).toBe(true);
      expect((await target.flowRuns.get(sub.id))?.parent_task_run_id).toBe(task.id);
      expect((await target.flowRuns.find({ flow_runs: { parent_task_run_id: { any_: [task.id] } } } as never, 'ID_DESC', { offset: 0, limit: 10 })).map((r) => r.id)).toEqual([sub.id]);
      expect((await exported(target)).lines).toEqual((await exported(source)).lines);
    }

    const orphanTarget = await pg();
    const withoutTask = lines.filter((l) => l.kind !== 'task_run');
    const orphaned = await importLines(orphanTarget, withoutTask);
    const subLine = withoutTask.findIndex((l) => l.record.id === sub.id) + 1;
    expect(orphaned[subLine]).toEqual({ error: `flow_run ${sub.id}: parent task run ${task.id} is neither in the store nor in the file; imported without it` });
    expect((await orphanTarget.flowRuns.get(sub.id))?.parent_task_run_id).toBeNull();
    expect(await orphanTarget.check()).toEqual([]);
  });

  test('a record the database refuses costs only its own line; the rest of its batch is kept', async () => {
    const store = await pg();
    // The database itself refuses artifact 2 (a trigger standing in for any failure mid-write).
    await store.db.unsafe(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = '${ID(2)}' THEN RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$`);
    await store.db.unsafe('CREATE TRIGGER refuse BEFORE INSERT ON artifact FOR EACH ROW EXECUTE FUNCTION refuse()');
    const outcomes = await importLines(store, [artifact(1, 'k', 10), artifact(2, 'k', 20), artifact(3, null, 30), artifact(4, 'j', 5)]);
    expect(outcomes[1]).toBe('added');
    expect(outcomes[2]).toEqual({ error: expect.stringMatching(/^not written: .*disk on fire/) });
    expect(outcomes[3]).toBe('added');
    expect(outcomes[4]).toBe('added');
    expect(await store.artifacts.get(ID(2))).toBeUndefined();
    expect(await store.counts()).toMatchObject({ artifacts: 3, collections: 2 });
    expect((await store.artifacts.latestByKey('k'))?.latestId).toBe(ID(1));
    expect(await store.check()).toEqual([]);
  });

  test('the same lines into LMDB and PostgreSQL: the same outcomes, the same export', async () => {
    const source = lmdb();
    const f = (await source.flows.create({ name: 'etl', tags: ['a'], labels: { env: 'prod' } } as never)).record;
    await source.flows.create({ name: 'other', tags: [] } as never);
    const d = (await source.deployments.create({ name: 'nightly', flow_id: f.id, parameters: { big: 1.5 }, tags: ['x'] } as never)).record;
    const runs: FlowRunRecord[] = [];
    for (let i = 0; i < 6; i++) {
      runs.push(
        (
          await source.flowRuns.create({
            flow_id: f.id,
            deployment_id: i % 2 === 0 ? d.id : null,
            state: { type: ['COMPLETED', 'RUNNING', 'FAILED'][i % 3] },
            idempotency_key: i % 3 === 0 ? `k${i}` : null,
            tags: [`t${i}`],
            parameters: { i },
          } as never)
        ).record,
      );
    }
    const tasks: TaskRunRecord[] = [];
    for (const [i, r] of runs.entries()) tasks.push((await source.taskRuns.create({ flow_run_id: r.id, task_key: 'publish', dynamic_key: String(i), state: { type: 'COMPLETED' } } as never)).record);
    await source.flowRuns.create({ flow_id: f.id, parent_task_run_id: tasks[2].id, state: { type: 'RUNNING' } } as never);
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const a = await source.artifacts.create({
        key: i % 7 === 6 ? null : `key-${i % 9}`,
        type: 'table',
        description: i % 2 ? `d${i}` : null,
        data: `{"n": 1234567890123456789${i}, "x": 1.50}`,
        metadata: i % 3 ? { i: String(i) } : null,
        flowRunId: runs[i % runs.length].id,
        taskRunId: i % 4 ? null : tasks[i % tasks.length].id,
      });
      ids.push(a.id);
    }
    for (let i = 0; i < 60; i += 11) await source.artifacts.update(ids[i], { description: 'patched', data: '[1]' });
    await source.logs.append(
      Array.from({ length: 40 }, (_, i) => ({
        name: i % 2 ? 'prefect.task_runs' : 'prefect.flow_runs',
        level: [10, 20, 30, 40, 50][i % 5],
        message: i % 7 === 0 ? `nul\0 and \\ ${i}` : `line ${i}`,
        timestamp: micros(i % 50),
        flow_run_id: runs[i % runs.length].id,
        task_run_id: i % 2 ? tasks[i % tasks.length].id : null,
      })),
    );
    await source.events.append(
      Array.from({ length: 30 }, (_, i) =>
        eventRecord(
          {
            occurred: '',
            event: `prefect.task-run.${['Pending', 'Running', 'Completed'][i % 3]}`,
            resource: { 'prefect.resource.id': `prefect.task-run.${tasks[i % tasks.length].id}`, 'prefect.state-name': 'x\u0000y' },
            related: [{ 'prefect.resource.id': `prefect.flow-run.${runs[i % runs.length].id}`, 'prefect.resource.role': 'flow-run' }],
            payload: { i, big: 1.5 },
            id: ID(500 + i),
            follows: i > 0 ? ID(499 + i) : null,
          } as Event,
          micros(i),
          micros(i) + 3,
        ),
      ),
      [],
    );
    for (const key of ['key-1', 'key-4']) await source.artifacts.delete(source.artifacts.latestByKey(key)!.latestId);
    const { lines: sourceLines } = await exported(source);

    // The export, shuffled within each kind, with duplicates, changed copies and refusals mixed in.
    const rnd = mulberry32(7);
    const records = sourceLines.map((l) => JSON.parse(l) as Line);
    const mixed: Line[] = [];
    for (const kind of ['flow', 'deployment', 'flow_run', 'task_run', 'collection', 'artifact', 'log', 'event']) {
      const ofKind = records.filter((l) => l.kind === kind).sort(() => rnd() - 0.5);
      for (const line of ofKind) {
        mixed.push(line);
        const r = rnd();
        if (r < 0.1) mixed.push(line);
        else if (r < 0.2 && kind !== 'collection') mixed.push({ ...line, record: { ...line.record, created: time(59) } });
      }
      if (kind === 'flow') mixed.push(flow(900, 'etl'));
      if (kind === 'flow_run') mixed.push({ ...records.find((l) => l.kind === 'flow_run' && l.record.idempotency_key === 'k0')!, record: { ...records.find((l) => l.record.idempotency_key === 'k0')!.record, id: ID(901) } });
      if (kind === 'task_run') mixed.push({ ...records.find((l) => l.kind === 'task_run')!, record: { ...records.find((l) => l.kind === 'task_run')!.record, id: ID(902) } });
      if (kind === 'artifact') mixed.push(artifact(903, 'key-2', 58), artifact(904, 'new-key', 1), artifact(905, null, 2));
      if (kind === 'event') {
        const first = ofKind[0];
        mixed.push({ ...first, record: { ...first.record, received: time(58) } }, { ...first, record: { ...first.record, payload: { other: true } } });
      }
    }
    for (const size of [7, 2000]) {
      const [a, b] = [lmdb(), await pg()];
      const [oa, ob] = [await importLines(a, mixed, size), await importLines(b, mixed, size)];
      expect(ob).toEqual(oa);
      expect(Object.values(oa).filter((o) => typeof o === 'object').length).toBe(3);
      expect(await b.check()).toEqual([]);
      expect(a.check()).toEqual([]);
      const [ea, eb] = [await exported(a), await exported(b)];
      // Collections created without a collection line get a new id: compare them without it.
      const anonymous = (lines: string[]) => lines.map((l) => (l.includes('"new-key"') ? l.replace(/"id":"[^"]+"/, '"id":"?"') : l));
      expect(anonymous(eb.lines)).toEqual(anonymous(ea.lines));
      expect(eb.header.counts).toEqual(ea.header.counts);
      expect(eb.header.counts).toMatchObject({ log: 40, event: 30 });
      // Again: nothing is added, the outcomes still agree.
      const [again, againB] = [await importLines(a, mixed, size), await importLines(b, mixed, size)];
      expect(againB).toEqual(again);
      expect(Object.values(againB).includes('added')).toBe(false);
    }
    // The untouched export (as text: `data` keeps its big integers), into PostgreSQL and out again: byte for byte.
    const target = await pg();
    expect(Object.values(await importLines(target, sourceLines)).every((o) => o === 'added')).toBe(true);
    expect((await exported(target)).lines).toEqual(sourceLines);
  });

  test('an export is one snapshot: writes while it is read are not in it', async () => {
    const store = await pg();
    await store.flows.create({ name: 'etl', tags: [] } as never);
    for (let i = 0; i < 2500; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => store.artifacts.create({ key: `k${(i + j) % 50}`, type: null, description: null, data: String(i + j), metadata: null, flowRunId: null, taskRunId: null })));
    }
    const snapshot = await store.transfer.openExport(new Date(Date.UTC(2026, 0, 2)));
    expect(snapshot.counts).toEqual({ flow: 1, deployment: 0, flow_run: 0, task_run: 0, collection: 50, artifact: 2500, log: 0, event: 0 });
    const lines: string[] = [];
    const iterator = (snapshot.lines as AsyncIterable<string>)[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) lines.push((await iterator.next()).value);
    // Meanwhile: new versions, a new flow, deletes.
    await store.flows.create({ name: 'later', tags: [] } as never);
    await Promise.all(Array.from({ length: 100 }, (_, j) => store.artifacts.create({ key: `k${j % 60}`, type: null, description: null, data: '1', metadata: null, flowRunId: null, taskRunId: null })));
    await store.artifacts.deleteMany((await store.artifacts.createdBefore(Number.MAX_SAFE_INTEGER, 300)).map((a) => a.id));
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) lines.push(next.value);
    await snapshot.done();
    await snapshot.done(); // twice is harmless
    expect(JSON.parse(lines[0])).toMatchObject({ kind: 'header', exported_at: '2026-01-02T00:00:00.000Z', counts: snapshot.counts });
    const kinds = lines.slice(1).map((l) => JSON.parse(l).kind);
    expect(kinds.filter((k) => k === 'flow').length).toBe(1);
    expect(kinds.filter((k) => k === 'collection').length).toBe(50);
    expect(kinds.filter((k) => k === 'artifact').length).toBe(2500);
    // In LMDB's order: records by id, collections by key (byte order).
    const of = (kind: string, field: string) => lines.slice(1).map((l) => JSON.parse(l)).filter((l) => l.kind === kind).map((l) => l.record[field] as string);
    const sorted = (list: string[]) => [...list].sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(of('artifact', 'id')).toEqual(sorted(of('artifact', 'id')));
    expect(of('collection', 'key')).toEqual(sorted(of('collection', 'key')));
    // The pool is whole again: the snapshot's connection went back.
    expect(await store.isReadable()).toBe(true);
  });

  test('an import beside writers of the same keys leaves every collection right', async () => {
    const store = await pg();
    const lines = Array.from({ length: 3000 }, (_, i) => artifact(i + 1, `k${i % 40}`, i % 60));
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 40; i++) {
        const a = await store.artifacts.create({ key: `k${(i + w) % 40}`, type: null, description: null, data: '1', metadata: null, flowRunId: null, taskRunId: null });
        if (i % 5 === 0) await store.artifacts.delete(a.id);
      }
    });
    const [outcomes] = await Promise.all([importLines(store, lines, 500), ...writers]);
    expect(Object.values(outcomes).every((o) => o === 'added')).toBe(true);
    expect(await store.check()).toEqual([]);
    // The API's versions are newer than the imported ones (2026-01-01): they stay latest.
    for (let k = 0; k < 40; k++) {
      const latest = (await store.artifacts.latestByKey(`k${k}`))!;
      expect((await store.artifacts.get(latest.latestId))!.created).toBeGreaterThan(micros(59));
    }
  });
});

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
