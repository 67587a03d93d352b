/**
 * The no-waiting row: does one slow query make everyone else wait? The slowest artifactd row of
 * the matrix that completed (a row that hit the cap is left out: its loop would measure the
 * --query-timeout's 503s, not a query that runs long and then answers) is sent in a loop on 4 concurrent connections (load-loop.ts, its own process) for a
 * fixed time; meanwhile this process times `GET /api/artifacts/{id}` back to back on another
 * connection (ids from 1,000 seeded ones) and `GET /api/health` every 100 ms on a third. The
 * same probes run first on the idle server. Reported: by-id p50 and p99, health p99, idle and
 * loaded. Targets: the by-id p99 under load within 3× of its idle p99, and /api/health's p99
 * within 3× of its idle p99 (its normal time). Every request sends `accept-encoding: identity`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from './matrix.ts';
import { settle } from './measure.ts';

export interface Latencies {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface NoWaiting {
  row: Row;
  rowMs?: number;
  connections: number;
  seconds: number;
  loadRequests: number;
  loadErrors: number;
  idle: { get: Latencies; health: Latencies };
  loaded: { get: Latencies; health: Latencies };
}

function stats(ms: number[]): Latencies {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return { n: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1] ?? NaN };
}

async function timed(url: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { 'accept-encoding': 'identity' }, signal: AbortSignal.timeout(60_000) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  return performance.now() - t0;
}

/** Both probes for `seconds`: by-id back to back, health every 100 ms. */
async function probe(url: string, ids: string[], seconds: number): Promise<{ get: Latencies; health: Latencies }> {
  const deadline = performance.now() + seconds * 1000;
  const get: number[] = [];
  const health: number[] = [];
  const byId = async () => {
    for (let i = 0; performance.now() < deadline; i++) get.push(await timed(`${url}/api/artifacts/${ids[i % ids.length]}`));
  };
  const healthLoop = async () => {
    while (performance.now() < deadline) {
      health.push(await timed(`${url}/api/health`));
      await Bun.sleep(100);
    }
  };
  await Promise.all([byId(), healthLoop()]);
  return { get: stats(get), health: stats(health) };
}

export async function noWaiting(opts: {
  url: string;
  row: Row;
  rowMs?: number;
  ids: string[];
  work: string;
  seconds: number;
  connections?: number;
}): Promise<NoWaiting> {
  const { url, row, ids, work, seconds, connections = 4 } = opts;
  await settle(url);
  const idle = await probe(url, ids, Math.min(5, seconds));
  const bodyFile = join(work, 'no-waiting-body.json');
  writeFileSync(bodyFile, JSON.stringify(row.body));
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, 'load-loop.ts'), url, row.route, bodyFile, String(connections), String(seconds)], {
    stdout: 'pipe',
    stderr: 'inherit',
    stdin: 'ignore',
  });
  await Bun.sleep(300); // the loops are sending
  const loaded = await probe(url, ids, Math.max(1, seconds - 0.5));
  const out = await new Response(proc.stdout).text();
  const code = await proc.exited;
  if (code !== 0) throw new Error(`load-loop exited ${code}: ${out}`);
  const { requests, errors } = JSON.parse(out.trim().split('\n').pop()!) as { requests: number; errors: number };
  // The server may still be working on the last abandoned requests: it is stopped next anyway.
  return { row, rowMs: opts.rowMs, connections, seconds, loadRequests: requests, loadErrors: errors, idle, loaded };
}
