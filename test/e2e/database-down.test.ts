/**
 * PostgreSQL stopped under load (issue 13, item 7), against a real artifactd process: the test
 * cluster is stopped (`pg_ctl stop -m fast`) while writers and readers run, and then started again.
 *
 * - requests answer 503 with Prefect's body `{"exception_message":"Service Unavailable"}` within
 *   a bounded time (`--database-connect-timeout`, `--database-statement-timeout`), never a 500
 *   and never a hang;
 * - `/api/ready` answers 503 `{"message":"Database is not available"}`, as Prefect's readiness
 *   route does when its database is not connectable (src/prefect/server/api/root.py);
 * - `/api/health` stays 200 `true` (Prefect's health route does not touch the database);
 * - the process does not exit, and when PostgreSQL is back service resumes by itself: writes
 *   and reads succeed again without restarting artifactd, every write acknowledged before the
 *   stop is still there, and `artifactd check` passes.
 *
 * The cluster is this test process's (bun runs the test files one after another in one process;
 * with --parallel each worker process has a cluster of its own): it is started again in a
 * `finally`, whatever happens, so that the files after this one find it running. Everything
 * listens on 127.0.0.1; every loop is bounded.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killChildren, runCheck, startServer, type ServerProcess } from '../../scripts/crash.ts';
import { freshDatabase, startCluster, stopCluster, testDatabaseUrl } from '../postgres/cluster.ts';
import { freezingProxy } from '../postgres/freezing-proxy.ts';
import { COMMAND } from './process.ts';

const url = await testDatabaseUrl();

const work = mkdtempSync(join(tmpdir(), 'artifactd-db-down-'));
afterAll(() => {
  killChildren();
  rmSync(work, { recursive: true, force: true });
});

/** The settings under test: a request waits at most about this long for the database. */
const CONNECT_TIMEOUT_S = 2;
const STATEMENT_TIMEOUT_S = 3;
/** What "a bounded time" means here: a timeout plus generous slack for a busy two-core machine. */
const ANSWER_WITHIN_MS = 10_000;
const UNAVAILABLE = { exception_message: 'Service Unavailable' };

interface Reply {
  status: number;
  body: any;
  ms: number;
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const started = performance.now();
  try {
    const response = await fetch(`${base}/api${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      // Longer than any bound asserted below, so that a hang shows up as a slow answer or status 0.
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body: parsed, ms: performance.now() - started };
  } catch (error) {
    return { status: 0, body: String(error), ms: performance.now() - started };
  }
}

describe.skipIf(url === null)('PostgreSQL stopped under load', () => {
  test('503 in Prefect shape within a bounded time, ready 503, health 200, no crash, and service resumes by itself', async () => {
    const db = await freshDatabase('database_down');
    let server: ServerProcess | undefined;
    let stopped = false;
    try {
      server = await startServer(COMMAND, work, [
        '--database-url',
        db.url,
        '--database-connect-timeout',
        String(CONNECT_TIMEOUT_S),
        '--database-statement-timeout',
        String(STATEMENT_TIMEOUT_S),
        '--log-level',
        'warning',
      ]);
      const base = server.base;

      // Before: ready, and some acknowledged writes.
      expect(await call(base, 'GET', '/ready')).toMatchObject({ status: 200, body: { message: 'OK' } });
      const before: { id: string; data: string }[] = [];
      for (let i = 0; i < 20; i++) {
        const reply = await call(base, 'POST', '/artifacts/', { key: `down${i % 4}`, type: 'markdown', data: `before ${i}` });
        expect(reply.status).toBe(201);
        before.push({ id: reply.body.id, data: `before ${i}` });
      }

      // Load: 8 loops of creates, reads and filters, each request's answer recorded with when it was sent.
      const WORKERS = 8;
      let stopLoad = false;
      let stopAt = Number.POSITIVE_INFINITY; // performance.now() when pg_ctl stop returned
      const answers: { sentAt: number; what: string; reply: Reply }[] = [];
      const acknowledged: { id: string; data: string }[] = [];
      const loadDeadline = performance.now() + 90_000;
      const worker = async (w: number) => {
        for (let n = 0; !stopLoad && performance.now() < loadDeadline && n < 100_000; n++) {
          const sentAt = performance.now();
          const kind = n % 3;
          let what: string;
          let reply: Reply;
          if (kind === 0) {
            const data = `load ${w}-${n}`;
            what = 'POST /artifacts/';
            reply = await call(base, 'POST', '/artifacts/', { key: `down${n % 4}`, type: 'markdown', data });
            if (reply.status === 201) acknowledged.push({ id: reply.body.id, data });
          } else if (kind === 1) {
            const target = before[n % before.length];
            what = 'GET /artifacts/{id}';
            reply = await call(base, 'GET', `/artifacts/${target.id}`);
          } else {
            what = 'POST /artifacts/filter';
            reply = await call(base, 'POST', '/artifacts/filter', { artifacts: { key: { any_: [`down${n % 4}`] } }, limit: 5 });
          }
          answers.push({ sentAt, what, reply });
          if (reply.status !== 200 && reply.status !== 201) await Bun.sleep(50); // a client backing off
        }
      };
      const load = Array.from({ length: WORKERS }, (_, w) => worker(w));
      await Bun.sleep(500);

      // Stop PostgreSQL under that load.
      const stopStarted = performance.now();
      stopped = true;
      await stopCluster();
      stopAt = performance.now();
      console.log(`database-down: pg_ctl stop took ${Math.round(stopAt - stopStarted)} ms`);

      // Requests answer 503 in Prefect's shape, quickly; ready says so; health stays up.
      let first503: number | undefined;
      const deadline = performance.now() + 30_000;
      while (performance.now() < deadline) {
        const probe = await call(base, 'POST', '/artifacts/filter', { limit: 1 });
        if (probe.status === 503) {
          first503 = performance.now();
          expect(probe.body).toEqual(UNAVAILABLE);
          break;
        }
        await Bun.sleep(25);
      }
      expect(first503).toBeDefined();
      const ready = await call(base, 'GET', '/ready');
      expect({ status: ready.status, body: ready.body }).toEqual({ status: 503, body: { message: 'Database is not available' } });
      expect(ready.ms).toBeLessThan(ANSWER_WITHIN_MS);
      const health = await call(base, 'GET', '/health');
      expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: true });

      // A while of load against the stopped database (bounded), then every kind of request once more.
      await Bun.sleep(3_000);
      const down: Record<string, Reply> = {
        create: await call(base, 'POST', '/artifacts/', { key: 'down0', type: 'markdown', data: 'while down' }),
        get: await call(base, 'GET', `/artifacts/${before[0].id}`),
        latest: await call(base, 'GET', '/artifacts/down0/latest'),
        patch: await call(base, 'PATCH', `/artifacts/${before[1].id}`, { data: 'while down' }),
        delete: await call(base, 'DELETE', `/artifacts/${before[2].id}`),
        count: await call(base, 'POST', '/artifacts/count', {}),
        latestFilter: await call(base, 'POST', '/artifacts/latest/filter', {}),
        flowRuns: await call(base, 'POST', '/flow_runs/filter', {}),
      };
      for (const [name, reply] of Object.entries(down)) {
        expect({ name, status: reply.status, body: reply.body }).toEqual({ name, status: 503, body: UNAVAILABLE });
        expect({ name, fast: reply.ms < ANSWER_WITHIN_MS }).toEqual({ name, fast: true });
      }
      expect(server.running).toBe(true);

      // Start PostgreSQL again: service resumes by itself.
      const startStarted = performance.now();
      await startCluster();
      stopped = false;
      const startedAt = performance.now();
      let recovered: number | undefined;
      const recoverBy = performance.now() + 30_000;
      let last: Reply | undefined;
      while (performance.now() < recoverBy) {
        last = await call(base, 'POST', '/artifacts/', { key: 'down0', type: 'markdown', data: 'after' });
        if (last.status === 201) {
          recovered = performance.now();
          break;
        }
        await Bun.sleep(50);
      }
      expect({ recovered: recovered !== undefined, last: last?.status }).toEqual({ recovered: true, last: 201 });
      const afterId = last!.body.id as string;
      stopLoad = true;
      await Promise.all(load);
      console.log(
        `database-down: first 503 ${Math.round(first503! - stopAt)} ms after pg_ctl stop returned; ` +
          `pg_ctl start took ${Math.round(startedAt - startStarted)} ms; first acknowledged write ${Math.round(recovered! - startedAt)} ms after it returned; ` +
          `${answers.length} load requests (${answers.filter((a) => a.reply.status === 503).length} answered 503)`,
      );

      // No 500, no hang, nothing but 2xx and 503 (Prefect's body) — and once the database was
      // gone, every answer came within the bound.
      const wrong = answers.filter(({ reply }) => ![200, 201, 503].includes(reply.status) || (reply.status === 503 && !Bun.deepEquals(reply.body, UNAVAILABLE)));
      expect(wrong.map(({ what, reply }) => `${what}: ${reply.status} ${JSON.stringify(reply.body)}`)).toEqual([]);
      const slow = answers.filter(({ sentAt, reply }) => sentAt >= stopAt && reply.ms > ANSWER_WITHIN_MS);
      expect(slow.map(({ what, reply }) => `${what}: ${reply.status} after ${Math.round(reply.ms)} ms`)).toEqual([]);
      expect(answers.filter((a) => a.sentAt >= stopAt && a.reply.status === 503).length).toBeGreaterThan(0);

      // Reads resume too, on the same process; nothing acknowledged was lost.
      expect(await call(base, 'GET', '/ready')).toMatchObject({ status: 200, body: { message: 'OK' } });
      expect((await call(base, 'GET', `/artifacts/${afterId}`)).status).toBe(200);
      for (const { id, data } of [...before, ...acknowledged]) {
        const reply = await call(base, 'GET', `/artifacts/${id}`);
        expect({ id, status: reply.status, data: reply.body?.data }).toEqual({ id, status: 200, data });
      }
      expect((await call(base, 'POST', '/artifacts/', { key: 'down0', type: 'markdown', data: 'final' })).status).toBe(201);
      const latest = await call(base, 'GET', '/artifacts/down0/latest');
      expect({ status: latest.status, data: latest.body.data }).toEqual({ status: 200, data: 'final' });
      expect(server.running).toBe(true);

      const checked = await runCheck(COMMAND, work, ['--database-url', db.url]);
      expect(JSON.parse(checked.stdout)).toMatchObject({ ok: true, findings: [] });
      expect(checked.status).toBe(0);

      // A clean stop afterwards.
      const status = await server.stop();
      server = undefined;
      expect(status).toBe(0);
    } finally {
      if (stopped) await startCluster();
      if (server) await server.kill();
      await db.drop().catch(() => {});
    }
  }, 150_000);

  // Here the database stops answering without closing its connections: `statement_timeout` is
  // the server's, which never sees the statement, and Bun's client has no time limit of its own
  // for a query on an open connection; the client-side deadline of src/store/postgres/db.ts
  // (connect + statement timeout + a margin) answers 503 and drops the connection instead.
  test('a database that stops answering (partition): 503 within the connect and statement timeouts, and service resumes when it answers again', async () => {
    const db = await freshDatabase('database_partition');
    const target = new URL(db.url);
    const proxy = freezingProxy({ hostname: target.hostname, port: Number(target.port) });
    let server: ServerProcess | undefined;
    try {
      const viaProxy = `postgres://postgres@127.0.0.1:${proxy.port}${target.pathname}`;
      server = await startServer(COMMAND, work, [
        '--database-url',
        viaProxy,
        '--database-connect-timeout',
        String(CONNECT_TIMEOUT_S),
        '--database-statement-timeout',
        String(STATEMENT_TIMEOUT_S),
        '--log-level',
        'warning',
      ]);
      const base = server.base;
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const reply = await call(base, 'POST', '/artifacts/', { key: `p${i % 2}`, type: 'markdown', data: `before ${i}` });
        expect(reply.status).toBe(201);
        ids.push(reply.body.id);
      }
      // Warm pooled connections, then the partition.
      await Promise.all(Array.from({ length: 8 }, (_, i) => call(base, 'GET', `/artifacts/${ids[i]}`)));
      proxy.freeze();
      const frozenAt = performance.now();
      const replies = await Promise.all([
        call(base, 'POST', '/artifacts/', { key: 'p0', type: 'markdown', data: 'during' }),
        call(base, 'GET', `/artifacts/${ids[0]}`),
        call(base, 'POST', '/artifacts/filter', { limit: 3 }),
        call(base, 'PATCH', `/artifacts/${ids[1]}`, { data: 'during' }),
        call(base, 'GET', '/artifacts/p1/latest'),
        ...Array.from({ length: 8 }, () => call(base, 'POST', '/artifacts/count', {})),
      ]);
      const ready = await call(base, 'GET', '/ready');
      const health = await call(base, 'GET', '/health');
      console.log(`partition: answers after ${replies.map((r) => `${r.status}@${Math.round(r.ms)}ms`).join(', ')}; ready ${ready.status}@${Math.round(ready.ms)}ms`);
      const bound = (CONNECT_TIMEOUT_S + STATEMENT_TIMEOUT_S) * 1000 + ANSWER_WITHIN_MS;
      for (const reply of replies) {
        expect({ status: reply.status, body: reply.body }).toEqual({ status: 503, body: UNAVAILABLE });
        expect(reply.ms).toBeLessThan(bound);
      }
      expect({ status: ready.status, body: ready.body }).toEqual({ status: 503, body: { message: 'Database is not available' } });
      expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: true });
      expect(server.running).toBe(true);

      proxy.thaw();
      const thawedAt = performance.now();
      let last: Reply | undefined;
      while (performance.now() < thawedAt + 30_000) {
        last = await call(base, 'POST', '/artifacts/', { key: 'p0', type: 'markdown', data: 'after' });
        if (last.status === 201) break;
        await Bun.sleep(50);
      }
      expect(last?.status).toBe(201);
      console.log(`partition: frozen ${Math.round(thawedAt - frozenAt)} ms; first acknowledged write ${Math.round(performance.now() - thawedAt)} ms after it healed`);
      for (const id of ids) expect((await call(base, 'GET', `/artifacts/${id}`)).status).toBe(200);
      expect((await call(base, 'GET', '/ready')).status).toBe(200);
      const checked = await runCheck(COMMAND, work, ['--database-url', db.url]);
      expect(JSON.parse(checked.stdout)).toMatchObject({ ok: true, findings: [] });
      expect(await server.stop()).toBe(0);
      server = undefined;
    } finally {
      if (server) await server.kill();
      proxy.stop();
      await db.drop().catch(() => {});
    }
  }, 150_000);
});
