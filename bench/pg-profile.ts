/**
 * Profiles one scenario of `npm run bench -- --postgres` on PostgreSQL, to explain a miss:
 *
 *   bun bench/pg-profile.ts --n 10000 --scenario get-by-id [--seconds 5] [--pool-size 10] [--out DIR]
 *
 * Same durable cluster and seeding as the bench (pg-cluster.ts, pg-seed.ts); artifactd runs from
 * source under Bun's sampling profiler (`bun --cpu-prof --cpu-prof-md src/main.ts serve
 * --database-url …`, written when it exits on SIGTERM) while wrk loads it like the bench does.
 * Prints: the wrk figures, the CPU of artifactd and of PostgreSQL's processes, PostgreSQL's
 * statements (pg_stat_statements), `EXPLAIN (ANALYZE, BUFFERS)` of the scenario's first request
 * when it is a filter, and where the profile's markdown summary was written (DIR, default a temp
 * dir that is kept).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startBenchCluster, processTicks, treeTicks } from './pg-cluster.ts';
import { seedPostgresFromLmdb } from './pg-seed.ts';
import { cleanup, installExitHandlers } from './procs.ts';
import { SCENARIOS } from './scenarios.ts';
import { seed } from './seed.ts';
import { startListeningCommand } from './server.ts';
import { runWrk, writeRequests } from './wrk.ts';
import { findArtifactsSql, findCollectionsSql } from '../src/store/postgres/artifact-queries.ts';

const ROOT = resolve(import.meta.dir, '..');

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    scenario: { type: 'string', default: 'get-by-id' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    'pool-size': { type: 'string' },
    out: { type: 'string' },
  },
});
installExitHandlers();
const n = Number(values.n);
const sc = SCENARIOS.find((s) => s.id === values.scenario);
if (!sc) throw new Error(`unknown scenario ${values.scenario}`);
const out = values.out ? resolve(values.out) : mkdtempSync(join(tmpdir(), 'artifactd-pg-profile-'));
try {
  const cluster = await startBenchCluster();
  const lmdbDir = mkdtempSync(join(tmpdir(), 'artifactd-pg-profile-lmdb-'));
  const seeded = await seed(lmdbDir, n);
  const url = await cluster.createDatabase(`profile_${n}`);
  await seedPostgresFromLmdb(lmdbDir, url);
  const pool = values['pool-size'] ? ['--database-pool-size', values['pool-size']] : [];
  const server = await startListeningCommand(
    [process.execPath, '--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${out}`, join(ROOT, 'src/main.ts'), 'serve', '--host', '127.0.0.1', '--port', '0', '--database-url', url, '--log-level', 'warning', ...pool],
    join(out, 'artifactd.log'),
  );
  const reqs = sc.requests(seeded);
  const file = join(out, `${sc.id}.tsv`);
  writeRequests(file, reqs);
  const load = { url: server.url, requestFile: file, connections: sc.connections ?? Number(values.connections), threads: sc.threads ?? 1 };
  await runWrk({ ...load, seconds: 1 });
  await cluster.admin.unsafe('SELECT pg_stat_statements_reset()');
  const seconds = Number(values.seconds);
  const a0 = processTicks(server.proc.pid);
  const p0 = treeTicks(cluster.pid);
  const t0 = performance.now();
  const r = await runWrk({ ...load, seconds });
  const wall = (performance.now() - t0) / 1000;
  const artifactd = (processTicks(server.proc.pid) - a0) / 100 / wall;
  const postgres = (treeTicks(cluster.pid) - p0) / 100 / wall;
  console.log(`\n${sc.title} at N = ${n}: ${Math.round(r.rps)} req/s, p50 ${(r.p50 / 1000).toFixed(2)} ms, p99 ${(r.p99 / 1000).toFixed(2)} ms; CPU: artifactd ${artifactd.toFixed(2)} cores, PostgreSQL ${postgres.toFixed(2)} cores`);
  const stmts = await cluster.admin.unsafe(
    `SELECT s.calls, round(s.mean_exec_time::numeric, 4) AS mean_ms, round(s.total_exec_time::numeric, 1) AS total_ms, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 200) AS query
     FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1 ORDER BY s.total_exec_time DESC LIMIT 6`,
    [`profile_${n}`],
  );
  console.log('\nPostgreSQL statements (pg_stat_statements):');
  for (const s of stmts) console.log(`  ${String(s.calls).padStart(7)} calls  mean ${s.mean_ms} ms  total ${s.total_ms} ms  ${s.query}`);
  const first = reqs[0];
  if (first.body && first.path.includes('/filter') && !/"(flow_runs|task_runs|flows|deployments)"/.test(first.body)) {
    const body = JSON.parse(first.body);
    const page = { offset: body.offset ?? 0, limit: body.limit ?? 200 };
    const statement = first.path.includes('/latest/')
      ? findCollectionsSql(body.artifacts ?? null, body.sort ?? 'ID_DESC', page, null)
      : findArtifactsSql(body.artifacts ?? null, body.sort ?? 'ID_DESC', page, null);
    if (statement) {
      const { SQL } = await import('bun');
      const db = new SQL(url);
      const plan = await db.unsafe(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, statement.values);
      console.log(`\nEXPLAIN (ANALYZE, BUFFERS) ${statement.text.replace(/\s+/g, ' ').slice(0, 200)}`);
      for (const row of plan) console.log(`  ${row['QUERY PLAN']}`);
      await db.close();
    }
  }
  await server.stop();
  await Bun.sleep(500);
  const md = readdirSync(out).filter((f) => f.endsWith('.md'));
  console.log(`\nartifactd CPU profile: ${md.map((f) => join(out, f)).join(', ') || `(none written in ${out})`}`);
  for (const f of md) console.log(readFileSync(join(out, f), 'utf8').split('\n').slice(0, 60).join('\n'));
} finally {
  cleanup();
}
