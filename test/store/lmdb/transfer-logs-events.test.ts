/**
 * Log and event lines in export and import (format version 2): a store's logs and events come
 * back identical through a round trip (records, indexes, counters; exporting the copy gives the
 * same file); an import only adds (unchanged when equal, kept when different); bad lines get a
 * reason; a version-1 file, which holds neither kind, still imports.
 */
import { afterEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import type { Event } from '../../../src/schemas/events.ts';
import { eventRecord } from '../../../src/store/event-records.ts';
import { LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { Importer, openExport, type Numbered } from '../../../src/store/lmdb/transfer.ts';
import { FORMAT_VERSION, parseLine } from '../../../src/transfer/format.ts';
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

const BASE = 1_767_225_600_000_000;
const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const AT = new Date('2026-06-01T00:00:00Z');

function exportText(store: Store): string[] {
  const snapshot = openExport(store, AT);
  try {
    return [...snapshot.lines];
  } finally {
    snapshot.done();
  }
}

async function importLines(store: Store, lines: string[]): Promise<Record<number, unknown>> {
  const importer = new Importer(store);
  const batch: Numbered[] = [];
  const outcomes: Record<number, unknown> = {};
  lines.forEach((line, i) => {
    const parsed = parseLine(line);
    if (!parsed.ok) outcomes[i + 1] = { error: parsed.reason };
    else if ('item' in parsed) batch.push({ line: i + 1, item: parsed.item });
  });
  (await importer.write(batch)).forEach((o, i) => (outcomes[batch[i].line] = o));
  for (const { line, outcome } of await importer.finish()) outcomes[line] = outcome;
  return outcomes;
}

const event = (n: number, occurred: number, related: [string, string][] = [], payload: Record<string, unknown> = {}) =>
  eventRecord(
    {
      occurred: '',
      event: `prefect.task-run.S${n}`,
      resource: { 'prefect.resource.id': `prefect.task-run.${ID(n)}`, 'prefect.state-name': `S${n}` },
      related: related.map(([id, role]) => ({ 'prefect.resource.id': id, 'prefect.resource.role': role, 'prefect.resource.name': 'x' })),
      payload,
      id: ID(1000 + n),
      follows: n > 1 ? ID(999 + n) : null,
    } as Event,
    occurred,
    occurred + 1234,
  );

async function seeded(): Promise<Store> {
  const store = fresh();
  const flow = (await store.flows.create({ name: 'etl', tags: [] } as never)).record;
  const run = (await store.flowRuns.create({ flow_id: flow.id } as never)).record;
  await store.logs.append([
    { name: 'prefect.flow_runs', level: 20, message: 'Hello "world"\nline two ✓', timestamp: BASE + 1, flow_run_id: run.id, task_run_id: null },
    { name: 'prefect.task_runs', level: 40, message: '', timestamp: BASE, flow_run_id: run.id, task_run_id: ID(7) },
    { name: 'other', level: 5, message: 'no run', timestamp: BASE + 2, flow_run_id: null, task_run_id: null },
  ]);
  await store.events.append(
    [
      event(1, BASE, [[`prefect.flow-run.${run.id}`, 'flow-run'], [`prefect.flow.${flow.id}`, 'flow']], { validated_state: { type: 'RUNNING', data: null }, n: [1, 2.5, 'x'] }),
      event(2, BASE + 10, [[`prefect.flow-run.${run.id}`, 'flow-run']]),
      event(3, BASE - 10),
    ],
    [],
  );
  return store;
}

test('a round trip gives the same logs and events, indexes and counters; exporting the copy gives the same file', async () => {
  const source = await seeded();
  const lines = exportText(source);
  const header = JSON.parse(lines[0]);
  expect(header).toMatchObject({ version: FORMAT_VERSION, counts: { log: 3, event: 3 } });
  expect(FORMAT_VERSION).toBe(2);
  const kinds = lines.slice(1).map((l) => JSON.parse(l).kind);
  // Logs and events come last, logs first.
  expect(kinds.slice(-6)).toEqual(['log', 'log', 'log', 'event', 'event', 'event']);
  const logLine = JSON.parse(lines.find((l) => l.includes('"kind":"log"'))!).record;
  expect(Object.keys(logLine)).toEqual(['id', 'created', 'updated', 'name', 'level', 'message', 'timestamp', 'flow_run_id', 'task_run_id']);
  const eventLine = JSON.parse(lines.find((l) => l.includes('"kind":"event"'))!).record;
  expect(Object.keys(eventLine)).toEqual(['occurred', 'event', 'resource', 'related', 'payload', 'id', 'follows', 'received']);

  const target = fresh();
  const outcomes = await importLines(target, lines);
  expect(Object.values(outcomes).every((o) => o === 'added')).toBe(true);
  const records = (s: Store) => ({ logs: [...s.dbs.logs.getRange({})], events: [...s.dbs.events.getRange({})] });
  expect(records(target)).toEqual(records(source));
  expect(target.counts()).toEqual(source.counts());
  expect(target.check()).toEqual([]);
  expect(exportText(target)).toEqual(lines);
  // The imported lines are found as the originals are.
  const runId = target.flowRuns.all()[Symbol.iterator]().next().value!.id;
  const page = await target.logs.find({ flow_run_id: { any_: [runId] } } as never, 'TIMESTAMP_ASC', { offset: 0, limit: 10 });
  expect(page.map((l) => l.level)).toEqual([40, 20]);
  const q = { since: 0, until: BASE * 2, order: 'ASC' as const, relatedIds: [`prefect.flow-run.${runId}`] };
  expect(await target.events.find(q, 10, null)).toEqual(await source.events.find(q, 10, null));
});

test('an import only adds: equal lines are unchanged, different ones kept as the store has them', async () => {
  const store = await seeded();
  const lines = exportText(store).slice(1);
  const again = await importLines(store, lines);
  expect(Object.values(again).every((o) => o === 'unchanged')).toBe(true);
  const edit = (kind: string, change: (record: Record<string, any>) => void) => {
    const line = JSON.parse(lines.find((l) => l.includes(`"kind":"${kind}"`))!);
    change(line.record);
    return JSON.stringify(line);
  };
  const outcomes = await importLines(store, [edit('log', (r) => (r.message = 'edited')), edit('event', (r) => (r.payload = { edited: true }))]);
  expect(outcomes).toEqual({ 1: 'kept', 2: 'kept' });
  expect([...store.dbs.logs.getRange({})].some(({ value }) => value.message === 'edited')).toBe(false);
  expect([...store.dbs.events.getRange({})].some(({ value }) => value.json.includes('edited'))).toBe(false);
  expect(store.counts()).toMatchObject({ logs: 3, events: 3 });
  expect(store.check()).toEqual([]);
});

test('log and event lines are validated like the API validates them', () => {
  const reason = (line: object) => {
    const parsed = parseLine(JSON.stringify(line));
    return parsed.ok ? 'ok' : parsed.reason;
  };
  const log = { id: ID(1), created: '2026-01-01T00:00:00Z', updated: '2026-01-01T00:00:00Z', name: 'n', level: 20, message: 'm', timestamp: '2026-01-01T00:00:01Z', flow_run_id: null, task_run_id: null };
  expect(reason({ kind: 'log', record: log })).toBe('ok');
  expect(reason({ kind: 'log', record: { ...log, level: 'loud' } })).toStartWith('log: record.level');
  expect(reason({ kind: 'log', record: { ...log, flow_run_id: 'nope' } })).toStartWith('log: record.flow_run_id');
  const { message: _, ...noMessage } = log;
  expect(reason({ kind: 'log', record: noMessage })).toBe('log: record.message: Field required');
  const e = JSON.parse(event(1, BASE).json);
  expect(reason({ kind: 'event', record: e })).toBe('ok');
  expect(reason({ kind: 'event', record: { ...e, id: 'nope' } })).toStartWith('event: record.id');
  expect(reason({ kind: 'event', record: { ...e, occurred: 'yesterday' } })).toStartWith('event: record.occurred');
  const { received: __, ...notReceived } = e;
  expect(reason({ kind: 'event', record: notReceived })).toBe('event: record.received: Field required');
  expect(reason({ kind: 'event', record: { ...e, resource: { 'prefect.resource.name': 'x' } } })).toStartWith('event: record.resource');
  expect(reason({ kind: 'event', record: { ...e, related: [{ 'prefect.resource.id': 'x' }] } })).toStartWith('event: record.related.0');
});

test('a version-1 file, without log or event lines, still imports', async () => {
  const source = fresh();
  await source.flows.create({ name: 'etl', tags: [] } as never);
  const lines = exportText(source);
  const header = JSON.parse(lines[0]);
  const v1 = JSON.stringify({ ...header, version: 1, counts: { flow: 1, deployment: 0, flow_run: 0, task_run: 0, collection: 0, artifact: 0 } });
  const parsed = parseLine(v1);
  expect(parsed.ok && 'header' in parsed && parsed.header.version).toBe(1);
  const target = fresh();
  expect(await importLines(target, [v1, ...lines.slice(1)])).toEqual({ 2: 'added' });
  expect(target.counts()).toMatchObject({ flows: 1, logs: 0, events: 0 });
  expect(target.check()).toEqual([]);
});
