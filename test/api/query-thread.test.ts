/**
 * Queries that run long move to the query thread (`--query-thread-after`): they answer exactly
 * what they answer on the server's thread, they are counted in `/metrics`, the server's thread
 * stays free meanwhile, and the query deadline still holds there.
 *
 * LMDB only: the query thread is LMDB's (a worker with its own LMDB handle on the data dir);
 * PostgreSQL runs every query in the database and moves none.
 */
import { afterEach, expect, test } from 'bun:test';
import { createApp, type App } from '../../src/app.ts';
import { DEFAULTS, type Config } from '../../src/config.ts';
import { QueryRunner } from '../../src/store/lmdb/query/query-thread.ts';
import { QueryDeadlineError } from '../../src/store/lmdb/query/slices.ts';
import { harness, type Harness } from '../helpers.ts';

const opened: Harness[] = [];
afterEach(async () => {
  for (const h of opened.splice(0)) await h.close();
});

/** 3,000 artifacts over 40 keys, 3 types and 2 flow runs, created straight in the store. */
async function seed(h: Harness) {
  const runs = ['10000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000002'];
  for (let from = 0; from < 3000; from += 500) {
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => {
        const n = from + i;
        return h.store.artifacts.create({
          key: n % 7 === 0 ? null : `k-${n % 40}`,
          type: ['markdown', 'table', 'link'][n % 3],
          description: null,
          data: JSON.stringify('x'.repeat(500)),
          metadata: null,
          flowRunId: runs[n % 2],
          taskRunId: null,
        });
      }),
    );
  }
}

/**
 * Bodies that no index answers alone. The `long` ones visit thousands of artifacts (far past a
 * first slice on any machine); the others may end within their first slice.
 */
const BODIES: [path: string, body: object, long: boolean][] = [
  ['/api/artifacts/count', { artifacts: { operator: 'or_', type: { any_: ['link'] }, key: { like_: 'k-1' } } }, true],
  ['/api/artifacts/filter', { artifacts: { operator: 'or_', type: { any_: ['nope'] }, key: { like_: 'k-39' } }, sort: 'KEY_ASC', offset: 20, limit: 200 }, true],
  ['/api/artifacts/count', { artifacts: { flow_run_id: { any_: ['10000000-0000-4000-8000-000000000001'] }, type: { not_any_: ['table'] }, key: { like_: 'k' } } }, true],
  ['/api/artifacts/latest/count', { artifacts: { operator: 'or_', type: { any_: ['link'] }, key: { like_: 'k-1' } } }, false],
  ['/api/artifacts/filter', { artifacts: { key: { exists_: false }, type: { not_any_: ['table'] } }, sort: 'CREATED_DESC', limit: 200 }, false],
  ['/api/artifacts/latest/filter', { artifacts: { operator: 'or_', type: { any_: ['link'] }, key: { like_: '%1' } }, sort: 'UPDATED_DESC', limit: 5 }, false],
];
const LONG = BODIES.filter(([, , long]) => long);

/** A second app over the same store, with other settings. */
function beside(h: Harness, overrides: Partial<Config>): App & { call(path: string, body?: object): Promise<{ status: number; text: string }> } {
  const app = createApp(h.store, { ...DEFAULTS, dataDir: h.dir, ...overrides });
  apps.push(app);
  return Object.assign(app, {
    async call(path: string, body?: object) {
      const init = body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) };
      const response = await app.handle(new Request(`http://127.0.0.1${path}`, init));
      return { status: response.status, text: await response.text() };
    },
  });
}
const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const handedOff = (metrics: string) => Number(/^artifactd_queries_handed_off_total (\d+)$/m.exec(metrics)?.[1]);

test('a query moved to the query thread answers exactly what it answers in slices', async () => {
  const h = harness({ queryThreadAfterMs: null });
  opened.push(h);
  await seed(h);
  // The same store, served with every query that outlasts its first slice moved.
  const moved = beside(h, { queryThreadAfterMs: 0, metrics: true });
  for (const [path, body, long] of BODIES) {
    const before = handedOff((await moved.call('/metrics')).text);
    const want = await h.call('POST', path, body);
    const got = await moved.call(path, body);
    expect([got.status, got.text]).toEqual([200, want.text]);
    if (long) expect(handedOff((await moved.call('/metrics')).text)).toBe(before + 1);
  }
  // Short queries never move: a count by type answers from counters within its first slice.
  const before = handedOff((await moved.call('/metrics')).text);
  expect((await moved.call('/api/artifacts/count', { artifacts: { type: { any_: ['link'] } } })).text).toBe('1000');
  expect(handedOff((await moved.call('/metrics')).text)).toBe(before);
});

test("the server's thread is free while a query runs on the query thread", async () => {
  const h = harness({ queryThreadAfterMs: 0 });
  opened.push(h);
  await seed(h);
  const [path, body] = LONG[0];
  // Several long counts at once; meanwhile reads keep answering, many before the counts end.
  let done = false;
  const counts = Promise.all(Array.from({ length: 4 }, () => h.call('POST', path, body))).finally(() => (done = true));
  let readsDuring = 0;
  while (!done && readsDuring < 10_000) {
    expect((await h.call('GET', '/api/health')).body).toBe(true);
    if (!done) readsDuring++;
  }
  const replies = await counts;
  expect(new Set(replies.map((r) => r.text)).size).toBe(1);
  expect(readsDuring).toBeGreaterThan(0);
});

test('the query deadline holds on the query thread', async () => {
  const h = harness();
  opened.push(h);
  await seed(h);
  const runner = new QueryRunner(h.store, h.dir, { timeoutMs: 10_000, handOffMs: 0 });
  try {
    const request = { route: 'count', values: { artifacts: { operator: 'or_', type: { any_: ['link'] }, key: { like_: 'k-1' } } }, limit: 0 } as const;
    // No time left: stopped at its first clock check, a few pauses in.
    await expect(runner.onThread(request, 0)).rejects.toBeInstanceOf(QueryDeadlineError);
    // Time enough: the same request answers, and the thread goes on serving after a stop.
    expect(await runner.onThread(request, 10_000)).toBe(Number((await h.call('POST', '/api/artifacts/count', request.values)).text));
  } finally {
    await runner.close();
  }
  // Over HTTP, a query stopped on the thread is answered as on the server's thread (app.ts).
  const strict = beside(h, { queryThreadAfterMs: 0, queryTimeoutMs: 1 });
  const [path, body] = LONG[0];
  const reply = await strict.call(path, body);
  expect([reply.status, JSON.parse(reply.text)]).toEqual([503, { exception_message: 'Service Unavailable' }]);
});
