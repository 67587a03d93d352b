/**
 * The server's retention schedule and its configuration: how often it runs for a given age, the
 * first run at start, and the flag/env parsing in `loadConfig`.
 */
import { afterEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { retentionInterval, startRetention } from '../../src/cli/retention.ts';
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
