/**
 * Layout version 12 (log lines by task run): a store whose lines were written by a version-11
 * build, which kept no task-run index, opens under 12 with the index built from the lines, so a
 * task run's lines are found through it; `check` agrees.
 */
import { afterEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { open } from 'lmdb';
import type { LogFilter } from '../../../src/schemas/logs.ts';
import { LAYOUT_VERSION, LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { storeVersion } from '../../../src/store/lmdb/upgrade.ts';
import { tempDir } from '../../helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const BASE = 1_767_225_600_000_000;
const TASK = '00000000-0000-4000-8000-000000000201';
const OTHER = '00000000-0000-4000-8000-000000000202';

test("lines written before version 12 are found by their task run after the upgrade", async () => {
  const dir = tempDir();
  dirs.push(dir);
  let store = Store.open(dir);
  await store.logs.append(
    Array.from({ length: 300 }, (_, i) => ({ name: 'n', level: 20, message: `${i}`, timestamp: BASE + i, flow_run_id: null, task_run_id: [TASK, OTHER, null][i % 3] })),
  );
  await store.close();

  // What a version-11 build left: the same lines, no task-run index, the store stamped 11.
  const env = open({ path: dir, noSubdir: false, maxDbs: 64 });
  const index = env.openDB({ name: 'logs.byTaskRun', encoding: 'binary' });
  await env.transaction(() => {
    for (const key of [...index.getKeys({})]) index.remove(key);
    env.openDB<number, string>({ name: 'meta' }).put('schema', 11);
  });
  await env.close();

  store = Store.open(dir);
  try {
    expect(storeVersion(store.dbs)).toBe(LAYOUT_VERSION);
    expect(store.dbs.logsByTaskRun.getKeysCount({})).toBe(200);
    const page = await store.logs.find({ task_run_id: { any_: [TASK] } } as LogFilter, 'TIMESTAMP_ASC', { offset: 0, limit: 200 });
    expect(page.map((l) => Number(l.message))).toEqual(Array.from({ length: 100 }, (_, i) => i * 3));
    expect(store.check()).toEqual([]);
  } finally {
    await store.close();
  }
});
