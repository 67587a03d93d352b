/**
 * The client-side deadline of db.ts: a database that stops answering without closing its
 * connections (a network partition, a frozen host — here a loopback proxy that stops passing
 * bytes) fails calls with StoreUnavailableError within connect + statement timeout + margin
 * instead of hanging; the connection is not used again; a transaction given up on does not
 * commit; and once the database answers again the same Db works. Loopback only; every loop is
 * bounded.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { SQL } from 'bun';
import { StoreUnavailableError } from '../../../src/store/errors.ts';
import { DEADLINE_MARGIN_MS, Db, durationMs, statementTimeoutSet, withStatementTimeout } from '../../../src/store/postgres/db.ts';
import { freshDatabase, testDatabaseUrl } from '../../postgres/cluster.ts';
import { freezingProxy } from '../../postgres/freezing-proxy.ts';

const url = await testDatabaseUrl();

/** How `promise` settled and after how many ms. */
async function timed<T>(promise: Promise<T>): Promise<{ ok: boolean; value?: T; error?: unknown; ms: number }> {
  const started = performance.now();
  try {
    const value = await promise;
    return { ok: true, value, ms: performance.now() - started };
  } catch (error) {
    return { ok: false, error, ms: performance.now() - started };
  }
}

describe('statement timeout settings', () => {
  test('durationMs reads PostgreSQL durations', () => {
    expect([durationMs('5000'), durationMs('250ms'), durationMs('3s'), durationMs('1min'), durationMs('0'), durationMs('soon'), durationMs(undefined)]).toEqual([
      5000,
      250,
      3000,
      60_000,
      0,
      undefined,
      undefined,
    ]);
  });

  test('statementTimeoutSet finds what a transaction sets', () => {
    expect(statementTimeoutSet(`SELECT set_config('statement_timeout', '0', true)`, [])).toBe(0);
    expect(statementTimeoutSet(`SELECT set_config('statement_timeout', $1, true)`, ['1500ms'])).toBe(1500);
    expect(statementTimeoutSet(`SET LOCAL statement_timeout = '2s'`, [])).toBe(2000);
    expect(statementTimeoutSet(`SET statement_timeout TO 0`, [])).toBe(0);
    expect(statementTimeoutSet('SELECT 1', [])).toBeUndefined();
  });
});

describe.skipIf(url === null)('a database that stops answering', () => {
  const CONNECT_S = 1;
  const STATEMENT_MS = 1_000;
  const DEADLINE_MS = CONNECT_S * 1000 + STATEMENT_MS + DEADLINE_MARGIN_MS;
  /** The deadline plus slack for a loaded machine. */
  const WITHIN_MS = DEADLINE_MS + 2_000;
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  async function setup(max = 4) {
    const database = await freshDatabase('db_timeout');
    const target = new URL(database.url);
    const proxy = freezingProxy({ hostname: target.hostname, port: Number(target.port) });
    const db = new Db(`postgres://postgres@127.0.0.1:${proxy.port}${target.pathname}`, { connectTimeoutMs: CONNECT_S * 1000, statementTimeoutMs: STATEMENT_MS, max });
    const direct = new SQL(database.url);
    cleanup.push(async () => {
      await db.close().catch(() => {});
      await direct.close({ timeout: 0 });
      proxy.stop();
      await database.drop().catch(() => {});
    });
    await direct.unsafe('CREATE TABLE t (id int PRIMARY KEY)');
    return { db, proxy, direct };
  }

  test('every way of running a statement gives up within the deadline, and works again when the database answers', async () => {
    const { db, proxy, direct } = await setup();
    expect(db.deadlineMs).toBe(DEADLINE_MS);
    // Warm: the normal paths, pooled connections open.
    expect(await db.unsafe('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(await db.transaction(async (tx) => (await tx.unsafe('SELECT 2 AS two'))[0])).toEqual({ two: 2 });
    expect([...(await db.sql.unsafe('SELECT 3 AS three'))]).toEqual([{ three: 3 }]);
    expect(await db.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => (await tx.unsafe('SELECT 4 AS four'))[0])).toEqual({ four: 4 });
    const reserved = await db.sql.reserve();
    expect([...(await reserved.unsafe('SELECT 5 AS five'))]).toEqual([{ five: 5 }]);
    await reserved.release();
    await Promise.all(Array.from({ length: 4 }, () => db.unsafe('SELECT pg_sleep(0.05)')));

    proxy.freeze();
    const reservedBefore = await db.sql.reserve(); // an idle pooled connection: handed out at once
    const results = await Promise.all([
      timed(db.unsafe('SELECT 1')),
      timed(db.unsafe('SELECT 1')),
      timed(db.transaction(async (tx) => await tx.unsafe('INSERT INTO t VALUES (1)'))),
      timed(db.sql.unsafe('SELECT 1') as unknown as Promise<unknown>),
      timed(db.sql.begin(async (tx) => await tx.unsafe('INSERT INTO t VALUES (2)'))),
      timed(reservedBefore.unsafe('SELECT 1') as unknown as Promise<unknown>),
      timed(
        (async () => {
          const connection = await db.sql.reserve(); // waits for a connection, or gets an idle dead one
          try {
            return await connection.unsafe('SELECT 1');
          } finally {
            await connection.release();
          }
        })(),
      ),
      ...Array.from({ length: 6 }, () => timed(db.unsafe('SELECT 1'))),
    ]);
    await reservedBefore.release(); // dropped: nothing to release, no throw
    console.log(`db-timeout: under partition every call failed after ${results.map((r) => Math.round(r.ms)).join(', ')} ms (deadline ${DEADLINE_MS} ms)`);
    for (const result of results) {
      expect({ ok: result.ok, unavailable: result.error instanceof StoreUnavailableError || String(result.error) }).toEqual({ ok: false, unavailable: true });
      expect(result.ms).toBeLessThan(WITHIN_MS);
    }
    expect(db.stats.poolsReplaced).toBeGreaterThan(0);

    proxy.thaw();
    let back: { ok: boolean; ms: number } | undefined;
    const healed = performance.now();
    for (let i = 0; i < 100 && performance.now() < healed + 20_000; i++) {
      back = await timed(db.unsafe('SELECT 1'));
      if (back.ok) break;
      await Bun.sleep(50);
    }
    expect(back?.ok).toBe(true);
    console.log(`db-timeout: answering again ${Math.round(performance.now() - healed)} ms after the partition healed`);
    // Every path works again, and the pool has all its slots: `max` transactions at once.
    await Promise.all(Array.from({ length: db.max }, (_, i) => db.transaction(async (tx) => await tx.unsafe('SELECT pg_sleep(0.05), $1::int', [i]))));
    expect(await db.transaction(async (tx) => (await tx.unsafe('INSERT INTO t VALUES (3) RETURNING id'))[0])).toEqual({ id: 3 });
    const again = await db.sql.reserve();
    expect([...(await again.unsafe('SELECT 6 AS six'))]).toEqual([{ six: 6 }]);
    await again.release();
    // The transactions given up on committed nothing.
    expect([...(await direct.unsafe('SELECT id FROM t ORDER BY id'))]).toEqual([{ id: 3 }]);
  }, 60_000);

  test('a transaction cut off halfway does not commit, and its connection is not reused', async () => {
    const { db, proxy, direct } = await setup(2);
    const result = await timed(
      db.transaction(async (tx) => {
        await tx.unsafe('INSERT INTO t VALUES (10)');
        proxy.freeze();
        await tx.unsafe('INSERT INTO t VALUES (11)');
        return 'committed';
      }),
    );
    expect(result.ok).toBe(false);
    expect(result.error).toBeInstanceOf(StoreUnavailableError);
    expect(result.ms).toBeLessThan(WITHIN_MS);
    proxy.thaw();
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = (await timed(db.unsafe('SELECT 1'))).ok;
      if (!ok) await Bun.sleep(50);
    }
    expect(ok).toBe(true);
    expect([...(await direct.unsafe('SELECT id FROM t ORDER BY id'))]).toEqual([]);
  }, 60_000);

  test('a slow but answering database: no client deadline before the server has its say', async () => {
    const { db } = await setup(2);
    // Past the pool's statement timeout: the server stops it (57014), before the client deadline.
    const stopped = await timed(db.unsafe('SELECT pg_sleep(5)'));
    expect(stopped.ok).toBe(false);
    expect(stopped.error).not.toBeInstanceOf(StoreUnavailableError);
    expect(stopped.ms).toBeLessThan(DEADLINE_MS);
    // A transaction that turns the statement timeout off (migrations) may run past the deadline…
    const long = await timed(
      db.transaction(async (tx) => {
        await tx.unsafe(`SELECT set_config('statement_timeout', '0', true)`);
        await tx.unsafe(`SELECT pg_sleep(${(DEADLINE_MS + 500) / 1000})`);
        return 'done';
      }),
    );
    expect({ ok: long.ok, value: long.value, error: long.error === undefined ? undefined : String(long.error) }).toEqual({ ok: true, value: 'done', error: undefined });
    expect(long.ms).toBeGreaterThan(DEADLINE_MS);
    // …and so may one with a longer timeout of its own (withStatementTimeout), step by step.
    const stepwise = await timed(
      withStatementTimeout(db, 2_000, async (tx) => {
        for (let i = 0; i < 3; i++) await tx.unsafe('SELECT pg_sleep(1.2)');
        return 'done';
      }),
    );
    expect({ ok: stepwise.ok, error: stepwise.error === undefined ? undefined : String(stepwise.error) }).toEqual({ ok: true, error: undefined });
    expect(db.stats.poolsReplaced).toBe(0);
  }, 60_000);
});
