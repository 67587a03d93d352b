/**
 * Logs and metrics of a real server process: one line per request in text and JSON, level
 * filtering, errors and start-up lines in the same format, lines flushed at shutdown, and
 * `/metrics` switched on by flag or by Prefect's environment variables.
 */
import { afterAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { tempDir } from '../helpers.ts';
import { parsePrometheus, sample } from '../observe/prometheus.ts';
import { outputReader, run } from './process.ts';

const dirs: string[] = [];
const procs: ReturnType<typeof run>[] = [];
afterAll(async () => {
  for (const p of procs) {
    p.kill('SIGKILL');
    await p.exited;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Reads a stream to its end in the background; `until` waits (30 s at most) for a pattern. */
function collect(stream: ReadableStream<Uint8Array>) {
  let text = '';
  const done = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  })();
  return {
    done: done.then(() => text),
    async until(pattern: RegExp): Promise<RegExpExecArray> {
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await Bun.sleep(10)) {
        const match = pattern.exec(text);
        if (match) return match;
      }
      throw new Error(`no ${pattern} in: ${text}`);
    },
  };
}

/** Starts a server, runs `work` against it, stops it with SIGTERM; returns all it printed. */
async function serveAndStop(args: string[], work: (base: string) => Promise<void>, env: Record<string, string> = {}) {
  const dir = tempDir();
  dirs.push(dir);
  const proc = run(['serve', '--port', '0', '--data-dir', dir, ...args], env);
  procs.push(proc);
  const stdout = collect(proc.stdout);
  const stderr = collect(proc.stderr);
  const base = (await stdout.until(/(http:\/\/127\.0\.0\.1:\d+)\/api/))[1];
  await work(base);
  proc.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
  return { stdout: await stdout.done, stderr: await stderr.done };
}

const requests = async (base: string) => {
  expect((await fetch(`${base}/api/health`)).status).toBe(200);
  expect((await fetch(`${base}/api/artifacts/00000000-0000-4000-8000-000000000000?secret=1`)).status).toBe(404);
  const created = await fetch(`${base}/api/artifacts/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"key":"k","data":1}' });
  expect(created.status).toBe(201);
};

test('text: one line per request with method, path (no query), status and duration; flushed at shutdown', async () => {
  const { stdout } = await serveAndStop([], requests);
  const lines = stdout.trim().split('\n');
  const requestLines = lines.filter((l) => / (GET|POST) /.test(l));
  expect(requestLines).toHaveLength(3);
  expect(requestLines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  GET \/api\/health 200 \d+\.\d\dms$/);
  expect(requestLines[1]).toMatch(/ INFO  GET \/api\/artifacts\/00000000-0000-4000-8000-000000000000 404 [\d.]+ms$/);
  expect(requestLines[2]).toMatch(/ INFO  POST \/api\/artifacts\/ 201 [\d.]+ms$/);
  expect(stdout).not.toContain('secret');
  expect(lines.at(-1)).toMatch(/ INFO  artifactd: SIGTERM received, closing the store$/);
});

test('json: the same facts as fields, start-up and shutdown lines as JSON too', async () => {
  const { stdout } = await serveAndStop(['--log-format', 'json'], requests);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines[0]).toMatchObject({ level: 'info', message: expect.stringMatching(/^artifactd serving the Prefect API at http:\/\/127\.0\.0\.1:\d+\/api/) });
  const requestLines = lines.filter((l) => 'method' in l);
  expect(requestLines.map((l) => [l.method, l.path, l.status])).toEqual([
    ['GET', '/api/health', 200],
    ['GET', '/api/artifacts/00000000-0000-4000-8000-000000000000', 404],
    ['POST', '/api/artifacts/', 201],
  ]);
  for (const l of requestLines) {
    expect(Object.keys(l)).toEqual(['time', 'level', 'method', 'path', 'status', 'duration_ms']);
    expect(l.level).toBe('info');
    expect(typeof l.duration_ms).toBe('number');
    expect(Number.isNaN(Date.parse(l.time))).toBe(false);
  }
  expect(lines.at(-1)).toMatchObject({ level: 'info', message: 'artifactd: SIGTERM received, closing the store' });
});

test('--log-level warning (or Prefect\'s env name) suppresses request lines but keeps the start-up line', async () => {
  for (const [args, env] of [[['--log-level', 'warning'], {}], [[], { PREFECT_LOGGING_SERVER_LEVEL: 'WARNING' }]] as const) {
    const { stdout, stderr } = await serveAndStop([...args], requests, env);
    expect(stdout).not.toMatch(/ (GET|POST) /);
    expect(stdout).toContain('SIGTERM received');
    expect(stderr).toBe('');
  }
});

test('a bad --log-level or --log-format is a one-line error, exit 2', async () => {
  for (const args of [['--log-level', 'loud'], ['--log-format', 'xml']]) {
    const proc = run(['serve', '--port', '0', ...args]);
    const [stderr, status] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(status).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toStartWith('artifactd: invalid log');
  }
});

test('/metrics with --metrics or PREFECT_API_ENABLE_METRICS; 404 without', async () => {
  const scrape = async (base: string) => {
    await requests(base);
    const reply = await fetch(`${base}/metrics`);
    expect(reply.status).toBe(200);
    const families = parsePrometheus(await reply.text());
    expect(sample(families, 'artifactd_http_requests_total', 'artifactd_http_requests_total', { method: 'POST', route: '/api/artifacts/', status: '201' })).toBe(1);
    expect(sample(families, 'artifactd_artifacts', 'artifactd_artifacts')).toBe(1);
    expect((await fetch(`${base}/api/metrics`)).status).toBe(200);
  };
  await serveAndStop(['--metrics', '--log-level', 'error'], scrape);
  await serveAndStop(['--log-level', 'error'], scrape, { PREFECT_API_ENABLE_METRICS: 'true' });
  await serveAndStop(['--log-level', 'error'], async (base) => {
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    expect((await fetch(`${base}/api/metrics`)).status).toBe(404);
  });
});

test('the server keeps serving when the reader of its log goes away', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const proc = run(['serve', '--port', '0', '--data-dir', dir]);
  procs.push(proc);
  const output = outputReader(proc.stdout);
  const base = (await output.until(/(http:\/\/127\.0\.0\.1:\d+)\/api/))![1];
  await output.reader.cancel(); // closes our end of the pipe: the server's log writes now fail
  for (let i = 0; i < 200; i++) expect((await fetch(`${base}/api/health`)).status).toBe(200);
  await Bun.sleep(100); // past the log's flush interval
  expect((await fetch(`${base}/api/health`)).status).toBe(200);
  expect(proc.exitCode).toBeNull();
  proc.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
});
