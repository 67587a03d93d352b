/**
 * The `artifactd` command as a user runs it: a real process (src/main.ts under this Bun),
 * flags and environment, the start-up line, clean shutdown, and one-line errors.
 */
import { afterEach, expect, test } from 'bun:test';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.ts';
import { run, startupUrl } from './process.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test('--help lists the options and exits 0', async () => {
  const proc = run(['--help']);
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  for (const option of ['--host', '--port', '--data-dir', 'PREFECT_SERVER_API_PORT', 'ARTIFACTD_DATA_DIR']) {
    expect(out).toContain(option);
  }
});

test('a bad flag or command is a one-line error and a non-zero exit', async () => {
  for (const args of [['--bogus'], ['frobnicate'], ['serve', '--port', 'abc']]) {
    const proc = run(args);
    const err = await new Response(proc.stderr).text();
    expect(await proc.exited).not.toBe(0);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toStartWith('artifactd: ');
  }
});

test('a command after the options, or a stray argument, says what to do', async () => {
  for (const [args, says] of [
    [['--data-dir', 'x', 'ls'], 'artifactd: the command goes first: artifactd ls [options] (see artifactd ls --help)\n'],
    [['ls', 'extra'], 'artifactd: unexpected argument "extra" (see artifactd ls --help)\n'],
  ] as const) {
    const proc = run([...args]);
    const err = await new Response(proc.stderr).text();
    expect(await proc.exited).toBe(2);
    expect(err).toBe(says);
  }
});

test('an unusable data dir is a one-line error', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir, 'not-a-dir');
  writeFileSync(file, 'x');
  const proc = run(['serve', '--port', '0', '--data-dir', join(file, 'store')]);
  const err = await new Response(proc.stderr).text();
  expect(await proc.exited).not.toBe(0);
  expect(err).toContain('artifactd: cannot create data dir');
});

test('a host it cannot listen on, or a port in use, is a one-line error and exit 2, not a stack trace', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const busy = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
  try {
    for (const [host, port, says] of [
      ['999.1.1.1', '0', 'cannot listen on 999.1.1.1:0: '],
      ['no-such-host.invalid', '0', 'cannot listen on no-such-host.invalid:0: '],
      ['127.0.0.1', String(busy.port), `cannot listen on 127.0.0.1:${busy.port}: address already in use`],
    ]) {
      const proc = run(['serve', '--host', host!, '--port', port!, '--data-dir', dir]);
      const err = await new Response(proc.stderr).text();
      expect(await proc.exited).toBe(2);
      expect(err.trim().split('\n')).toHaveLength(1);
      expect(err).toStartWith(`artifactd: ${says}`);
    }
  } finally {
    busy.stop(true);
  }
});

test('serves on the configured port from the environment, and SIGTERM exits 0 keeping the data', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const proc = run([], { PREFECT_SERVER_API_PORT: '0', PREFECT_SERVER_API_HOST: '127.0.0.1', ARTIFACTD_DATA_DIR: dir });
  const base = await startupUrl(proc);
  expect(await (await fetch(`${base}/api/health`)).json()).toBe(true);
  const created = await fetch(`${base}/api/artifacts/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: 'survives', data: 1 }),
  });
  expect(created.status).toBe(201);
  proc.kill('SIGTERM');
  expect(await proc.exited).toBe(0);

  const again = run(['serve', '--port', '0', '--data-dir', dir]);
  const base2 = await startupUrl(again);
  const latest = await fetch(`${base2}/api/artifacts/survives/latest`);
  expect(latest.status).toBe(200);
  again.kill('SIGINT');
  expect(await again.exited).toBe(0);
});
