/**
 * `artifactd prune --events` / `--logs` through the real process: events that occurred and log
 * lines logged before the age go (a dry run only counts them), newer ones and the artifact
 * versions stay unless `--artifacts` is given too. The old records are written into the data dir
 * directly (the API stamps nothing on them, but they must be old before the command runs).
 */
import { afterAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { LmdbStore } from '../../src/store/lmdb/store.ts';
import { eventRecord } from '../../src/store/event-records.ts';
import { tempDir } from '../helpers.ts';
import { cli } from './cli-run.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const DAY_US = 86_400_000_000;

/** A data dir with 3 events and 2 log lines 10 days old, 1 of each from now, and one artifact. */
async function seeded(): Promise<string> {
  const dir = tempDir();
  dirs.push(dir);
  const store = LmdbStore.open(dir);
  const now = Date.now() * 1000;
  const event = (occurred: number) => eventRecord({ occurred: '', event: 'test', resource: { 'prefect.resource.id': 'r' }, id: crypto.randomUUID() }, occurred, now);
  await store.events.append([event(now - 10 * DAY_US), event(now - 10 * DAY_US + 1), event(now - 10 * DAY_US + 2), event(now)], []);
  const line = (timestamp: number) => ({ name: 'n', level: 20, message: 'm', timestamp, flow_run_id: null, task_run_id: null });
  await store.logs.append([line(now - 10 * DAY_US), line(now - 10 * DAY_US), line(now)]);
  await store.artifacts.create({ key: null, type: null, description: null, data: 'null', metadata: null, flowRunId: null, taskRunId: null });
  await store.close();
  return dir;
}

async function counts(dir: string) {
  const store = LmdbStore.open(dir);
  try {
    const { events, logs, artifacts } = await store.counts();
    return { events, logs, artifacts };
  } finally {
    await store.close();
  }
}

test('--events --logs --dry-run counts, and changes nothing', async () => {
  const dir = await seeded();
  const dry = await cli(['prune', '--older-than', '7d', '--events', '--logs', '--dry-run', '--json', '--data-dir', dir]);
  expect([dry.code, dry.err]).toEqual([0, '']);
  expect(JSON.parse(dry.out)).toMatchObject({ dry_run: true, events: 3, logs: 2 });
  expect(JSON.parse(dry.out).deleted).toBeUndefined(); // artifact versions not considered
  const human = await cli(['prune', '--older-than', '7d', '--events', '--logs', '--dry-run', '--data-dir', dir]);
  expect(human.out).toMatch(/^Would delete 3 events that occurred before \S+\.\nWould delete 2 log lines logged before \S+\.\n$/);
  expect(await counts(dir)).toEqual({ events: 4, logs: 3, artifacts: 1 });
});

test('--events deletes old events only; --logs old log lines only; artifacts stay without --artifacts', async () => {
  const dir = await seeded();
  const events = await cli(['prune', '--older-than', '7d', '--events', '--data-dir', dir]);
  expect([events.code, events.err]).toEqual([0, '']);
  expect(events.out).toMatch(/^Deleted 3 events that occurred before \S+\.\n$/);
  expect(await counts(dir)).toEqual({ events: 1, logs: 3, artifacts: 1 });
  const logs = await cli(['prune', '--older-than', '7d', '--logs', '--json', '--data-dir', dir]);
  expect(JSON.parse(logs.out)).toMatchObject({ dry_run: false, logs: 2 });
  expect(await counts(dir)).toEqual({ events: 1, logs: 1, artifacts: 1 });
});

test('--artifacts with --events prunes the versions too', async () => {
  const dir = await seeded();
  await Bun.sleep(1100); // everything seeded is now older than 1 s
  const both = await cli(['prune', '--older-than', '1s', '--events', '--artifacts', '--json', '--data-dir', dir]);
  expect([both.code, both.err]).toEqual([0, '']);
  const out = JSON.parse(both.out);
  expect(out).toMatchObject({ events: 4, deleted: 1, kept_latest: 0 }); // the seeded artifact has no key: no latest to keep
  expect(out.logs).toBeUndefined();
  expect(await counts(dir)).toEqual({ events: 0, logs: 3, artifacts: 0 });
});
