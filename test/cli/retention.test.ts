/**
 * The server's retention schedule and its configuration: how often it runs for a given age, the
 * first run at start, and the flag/env parsing in `loadConfig`.
 */
import { afterEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { deleteOlder, retentionInterval, startRetention } from '../../src/cli/retention.ts';
import { eventRecord } from '../../src/store/event-records.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { LmdbStore as Store } from '../../src/store/lmdb/store.ts';
import { tempDir } from '../helpers.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

test('runs hourly, or every tenth of a shorter age, but at most once a second', () => {
  expect(retentionInterval(90 * 86_400_000)).toBe(3_600_000);
  expect(retentionInterval(10 * 60_000)).toBe(60_000);
  expect(retentionInterval(1000)).toBe(1000);
});

test('prunes once at start, logs it, and stop() waits for the run', async () => {
  const dir = tempDir();
  const store = Store.open(dir);
  cleanup.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = { key: 'k', type: null, description: null, data: 'null', metadata: null, flowRunId: null, taskRunId: null };
  const old = await store.artifacts.create(base);
  const latest = await store.artifacts.create(base);
  await Bun.sleep(5);
  const lines: string[] = [];
  const schedule = startRetention(store, { artifactsMs: 1, eventsMs: null, logsMs: null }, { info: (line) => lines.push(line), error: (line) => lines.push(line) }); // 1 ms: both are older
  await schedule.stop();
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^artifactd: retention pruned 1 artifact version created before \d{4}-/);
  expect(store.artifacts.get(old.id)).toBeUndefined();
  expect(store.artifacts.get(latest.id)).toBeDefined();
  expect(store.check()).toEqual([]);
});

test('--retention and ARTIFACTD_RETENTION set it (flag first); a bad age is a ConfigError', () => {
  expect(loadConfig({}, {}).retentionMs).toBeNull();
  expect(loadConfig({}, { ARTIFACTD_RETENTION: '90d' }).retentionMs).toBe(90 * 86_400_000);
  expect(loadConfig({ retention: '12h' }, { ARTIFACTD_RETENTION: '90d' }).retentionMs).toBe(43_200_000);
  expect(() => loadConfig({ retention: '90' }, {})).toThrow(ConfigError);
});

test('events older than the event retention and log lines older than the log retention go, in batches; newer ones stay', async () => {
  const dir = tempDir();
  const store = Store.open(dir);
  cleanup.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const now = Date.now() * 1000;
  const HOUR_US = 3_600_000_000;
  const event = (occurred: number) =>
    eventRecord({ occurred: '', event: 'test', resource: { 'prefect.resource.id': 'r' }, id: crypto.randomUUID() }, occurred, now);
  await store.events.append([...Array.from({ length: 2500 }, (_, i) => event(now - 3 * HOUR_US - i)), event(now - HOUR_US)], []);
  const line = (timestamp: number) => ({ name: 'n', level: 20, message: 'm', timestamp, flow_run_id: null, task_run_id: null });
  await store.logs.append([line(now - 3 * HOUR_US), line(now - 3 * HOUR_US), line(now - HOUR_US)]);
  const lines: string[] = [];
  const log = { info: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
  const schedule = startRetention(store, { artifactsMs: null, eventsMs: 2 * 3_600_000, logsMs: 2 * 3_600_000 }, log);
  await schedule.stop();
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^artifactd: retention deleted 2500 events that occurred before \d{4}-/);
  expect(lines[1]).toMatch(/^artifactd: retention deleted 2 log lines logged before \d{4}-/);
  const counts = await store.counts();
  expect([counts.events, counts.logs]).toEqual([1, 1]);
  expect(store.check()).toEqual([]);
});

test('nothing to keep a schedule for: every period off', async () => {
  const schedule = startRetention({} as never, { artifactsMs: null, eventsMs: null, logsMs: null }, { info() {}, error() {} });
  await schedule.stop();
});

test('deleteOlder repeats a bounded delete until it finds nothing', async () => {
  const calls: number[] = [];
  let left = 2345;
  const deleted = await deleteOlder(async (_cutoff, limit) => {
    calls.push(limit);
    const n = Math.min(limit, left);
    left -= n;
    return n;
  }, 0, 1000);
  expect(deleted).toBe(2345);
  expect(calls).toEqual([1000, 1000, 1000, 1000]);
});

test('a failing kind is logged and the others still run', async () => {
  const lines: string[] = [];
  const store = {
    events: { deleteBefore: async () => Promise.reject(new Error('database down')) },
    logs: { deleteBefore: async () => 0 },
  } as never;
  const schedule = startRetention(store, { artifactsMs: null, eventsMs: 60_000, logsMs: 60_000 }, { info: (l) => lines.push(l), error: (l) => lines.push(l) });
  await schedule.stop();
  expect(lines[0]).toBe('artifactd: retention run failed: database down');
  expect(lines[1]).toMatch(/^artifactd: retention deleted 0 log lines logged before/);
});
