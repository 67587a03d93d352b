/**
 * Long filters and counts never hold the server: they run in slices between other requests,
 * and one that outruns `--query-timeout` is stopped and answered as Prefect answers a statement
 * past its database timeout: 503 `{"exception_message": "Service Unavailable"}`. These tests keep
 * every query on the server's thread (`--query-thread-after off`); query-thread.test.ts covers
 * the queries that move. On PostgreSQL the same routes must keep the server free just the same
 * (the query runs in the database) and answer the same 503 past the deadline.
 */
import { afterEach, expect, test } from 'bun:test';
import { harness, type Harness } from '../helpers.ts';
import { describeBackends } from '../backends.ts';

describeBackends('long queries', (backend) => {
  let opened: Harness | undefined;
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });

  /** A store of 4,000 artifacts with 2 KB payloads. */
  async function world(overrides = {}) {
    const h = (opened = await harness({ queryThreadAfterMs: null, ...overrides }, backend));
    const payload = 'x'.repeat(2000);
    const ids: string[] = [];
    for (let from = 0; from < 4000; from += 500) {
      const made = await Promise.all(
        Array.from({ length: 500 }, (_, i) => h.store.artifacts.create({ key: `k-${(from + i) % 50}`, type: 'markdown', description: null, data: JSON.stringify(payload), metadata: null, flowRunId: null, taskRunId: null })),
      );
      ids.push(...made.map((r) => r.id));
    }
    return { h, ids };
  }

  /**
   * Runs `probe` again and again, each time after a turn of the event loop, while `work` runs;
   * returns work's reply and how many probes ran meanwhile. Work that held the event loop would
   * leave the probes no turn until it was done.
   */
  async function probesDuring<T>(work: () => Promise<T>, probe: (turn: number) => Promise<void>): Promise<{ reply: T; turns: number }> {
    let running = true;
    let turns = 0;
    const other = (async () => {
      while (running) {
        await new Promise((resolve) => setImmediate(resolve));
        if (!running) break;
        await probe(turns);
        turns++;
      }
    })();
    const reply = await work();
    running = false;
    await other;
    return { reply, turns };
  }

  /** Two conditions under `or_`: no index narrows it, so it decodes every artifact. */
  const SCAN = { artifacts: { operator: 'or_', type: { any_: ['link'] }, key: { like_: 'no-such-key' } } };

  test('a long count lets other requests through while it runs', async () => {
    const { h, ids } = await world();
    // Another task reads an artifact at each turn of the event loop it gets.
    const { reply, turns } = await probesDuring(
      () => h.call('POST', '/api/artifacts/count', SCAN),
      async (turn) => expect((await h.call('GET', `/api/artifacts/${ids[turn % ids.length]}`)).status).toBe(200),
    );
    expect(reply.body).toBe(0);
    // 4,000 rows take several slices of 0.1 ms on any machine; each let the reader in.
    expect(turns).toBeGreaterThanOrEqual(3);
    expect((await h.call('GET', '/api/health')).body).toBe(true);
  });

  test('every filter route answers the same as before, sliced', async () => {
    const { h } = await world();
    expect((await h.call('POST', '/api/artifacts/count', { artifacts: { key: { like_: 'k-4' } } })).body).toBe(880);
    expect((await h.call('POST', '/api/artifacts/latest/count', { artifacts: { key: { like_: 'k-4' } } })).body).toBe(11);
    const page = await h.call('POST', '/api/artifacts/filter', { artifacts: { key: { like_: 'k-4' } }, sort: 'KEY_ASC', limit: 3 });
    expect(page.body.map((a: { key: string }) => a.key)).toEqual(['k-4', 'k-4', 'k-4']);
    const latest = await h.call('POST', '/api/artifacts/latest/filter', { artifacts: { key: { like_: 'k-4' } }, sort: 'KEY_DESC' });
    expect(latest.body.map((a: { key: string }) => a.key)).toEqual(['k-49', 'k-48', 'k-47', 'k-46', 'k-45', 'k-44', 'k-43', 'k-42', 'k-41', 'k-40', 'k-4']);
  });

  test('a query past --query-timeout is stopped with Prefect\'s 503', async () => {
    const { h, ids } = await world({ queryTimeoutMs: 1 });
    if (backend === 'postgresql') {
      // PostgreSQL scans 4,000 rows well within 1 ms: 300,000 keyless rows more (no collection
      // to keep) make the scan long enough to meet the statement timeout every time.
      const db = (h.store as unknown as { db: { unsafe(text: string): Promise<unknown> } }).db;
      await db.unsafe(`INSERT INTO artifact (id, created, updated, key, type, description, data, metadata_, flow_run_id, task_run_id)
        SELECT gen_random_uuid()::text, n, n, NULL, 'markdown', NULL, '"x"', NULL, NULL, NULL FROM generate_series(1, 300000) AS n`);
      await db.unsafe('ANALYZE artifact');
    }
    for (const [path, body] of [
      ['/api/artifacts/count', SCAN],
      ['/api/artifacts/filter', SCAN],
    ] as const) {
      const reply = await h.call('POST', path, body);
      expect([reply.status, reply.body]).toEqual([503, { exception_message: 'Service Unavailable' }]);
    }
    // A count LMDB reads from its counters is untouched by the deadline (PostgreSQL counts
    // rows: past 1 ms), reads by id never meet it, and the store is still sound (check in close()).
    if (backend === 'lmdb') expect((await h.call('POST', '/api/artifacts/count', {})).body).toBe(4000);
    expect((await h.call('GET', `/api/artifacts/${ids[0]}`)).status).toBe(200);
  });

  test('resolving the run filters is sliced too: a scan of every run lets other requests through', async () => {
    const h = (opened = await harness({ queryThreadAfterMs: null }, backend));
    const flow = (await h.store.flows.create({ name: 'etl', tags: [] } as never)).record;
    for (let from = 0; from < 3000; from += 500) {
      await Promise.all(Array.from({ length: 500 }, () => h.store.flowRuns.create({ flow_id: flow.id, state: { type: 'COMPLETED' }, tags: [] } as never)));
    }
    // `state.name.not_any_` is tested on every run's record (no index answers it).
    const { reply, turns } = await probesDuring(
      () => h.call('POST', '/api/artifacts/count', { flow_runs: { state: { name: { not_any_: ['Completed'] } } } }),
      async () => expect((await h.call('GET', '/api/health')).body).toBe(true),
    );
    expect(reply.body).toBe(0);
    expect(turns).toBeGreaterThanOrEqual(3);
  });
});
