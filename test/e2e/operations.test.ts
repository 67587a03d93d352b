/**
 * The server as an operator runs it: `check` on a live data dir (two processes on one LMDB
 * environment), HTTPS with a certificate made here, and a bounded graceful shutdown.
 */
import { afterEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.ts';
import { run, startupUrl } from './process.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const post = (url: string, body: unknown, init: RequestInit = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });

test('check passes on a store a running server is writing to, and reports the counts', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const server = run(['serve', '--port', '0', '--data-dir', dir]);
  const base = await startupUrl(server);
  const flow = (await (await post(`${base}/api/flows/`, { name: "etl" })).json()) as { id: string };
  const runBody = (await (await post(`${base}/api/flow_runs/`, { flow_id: flow.id })).json()) as { id: string };
  for (let i = 0; i < 20; i++) expect((await post(`${base}/api/artifacts/`, { key: `k${i % 3}`, flow_run_id: runBody.id })).status).toBe(201);

  // Writers keep going while check reads a consistent snapshot from another process.
  const writing = Promise.all(Array.from({ length: 50 }, (_, i) => post(`${base}/api/artifacts/`, { key: `w${i % 5}` })));
  const check = run(['check', '--data-dir', dir, '--json']);
  const out = JSON.parse(await new Response(check.stdout).text());
  expect(await check.exited).toBe(0);
  expect(out.ok).toBe(true);
  expect(out.findings).toEqual([]);
  expect(out.counts.flows).toBe(1);
  expect(out.counts.artifacts).toBeGreaterThanOrEqual(20);
  await writing;

  const human = run(['check', '--data-dir', dir]);
  expect(await new Response(human.stdout).text()).toStartWith('ok: 70 artifacts, 8 keys, 1 flows, 1 flow runs');
  expect(await human.exited).toBe(0);
  server.kill('SIGTERM');
  expect(await server.exited).toBe(0);
});

test('check on a directory without a store is a one-line error', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const proc = run(['check', '--data-dir', join(dir, 'nothing-here')]);
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toStartWith('artifactd: no store in');
});

test('serves HTTPS with --tls-cert and --tls-key', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const openssl = Bun.spawnSync([
    'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ]);
  expect(openssl.exitCode).toBe(0);
  const server = run(['serve', '--port', '0', '--data-dir', join(dir, 'data'), '--tls-cert', cert, '--tls-key', key]);
  const base = await startupUrl(server);
  expect(base).toStartWith('https://127.0.0.1:');
  const tls = { ca: await Bun.file(cert).text() };
  const health = await fetch(`${base}/api/health`, { tls } as RequestInit);
  expect(await health.json()).toBe(true);
  const created = await post(`${base}/api/artifacts/`, { key: 'secure' }, { tls } as RequestInit);
  expect(created.status).toBe(201);
  // Plain HTTP on the same port is not served.
  await expect(fetch(base.replace('https:', 'http:') + '/api/health')).rejects.toThrow();
  server.kill('SIGTERM');
  expect(await server.exited).toBe(0);
});

test('a half-configured TLS setup is refused at start', async () => {
  const proc = run(['serve', '--port', '0', '--tls-cert', '/nonexistent.pem']);
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toContain('--tls-cert and --tls-key go together');
});

// The server exits 1 when its shutdown takes over 5 s (serve.ts), so exit 0 is that deadline met;
// the wall clock around it would also count process start-up and exit on a busy machine.
test('SIGTERM during in-flight requests: they finish, the process exits 0 within its 5 s deadline', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const server = run(['serve', '--port', '0', '--data-dir', dir]);
  const base = await startupUrl(server);
  const inflight = Array.from({ length: 30 }, (_, i) => post(`${base}/api/artifacts/`, { key: 'late', data: i }));
  await Bun.sleep(5);
  server.kill('SIGTERM');
  const settled = await Promise.allSettled(inflight);
  expect(await server.exited).toBe(0);
  // Every request that got an answer got a complete one; acknowledged ones are in the store.
  const acknowledged = settled.filter((s) => s.status === 'fulfilled' && s.value.status === 201).length;
  const check = run(['check', '--data-dir', dir, '--json']);
  const out = JSON.parse(await new Response(check.stdout).text());
  expect(out.ok).toBe(true);
  expect(out.counts.artifacts).toBeGreaterThanOrEqual(acknowledged);
});

test('a long query moves to the query thread in the running server (and the executable), answers right, and the server stops cleanly', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const server = run(['serve', '--port', '0', '--data-dir', dir, '--query-thread-after', '0', '--metrics']);
  const base = await startupUrl(server);
  for (let from = 0; from < 600; from += 100) {
    const made = await Promise.all(Array.from({ length: 100 }, (_, i) => post(`${base}/api/artifacts/`, { key: `k-${(from + i) % 30}`, type: ['markdown', 'table'][i % 2] })));
    expect(made.every((r) => r.status === 201)).toBe(true);
  }
  // Two conditions under or_: nothing narrows it, so it visits all 600 artifacts.
  const count = await post(`${base}/api/artifacts/count`, { artifacts: { operator: 'or_', type: { any_: ['link'] }, key: { like_: 'k-1' } } });
  // k-1 and k-10 … k-19: 11 of 30 keys, 20 versions each.
  expect(await count.json()).toBe(220);
  const page = await post(`${base}/api/artifacts/filter`, { artifacts: { operator: 'or_', type: { any_: ['link'] }, key: { like_: 'k-29' } }, sort: 'KEY_ASC', limit: 200 });
  expect(((await page.json()) as { key: string }[]).map((a) => a.key)).toEqual(Array(20).fill('k-29'));
  const metrics = await (await fetch(`${base}/metrics`)).text();
  expect(Number(/^artifactd_queries_handed_off_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  server.kill('SIGTERM');
  expect(await server.exited).toBe(0);
});
