/**
 * `--map-size` and the address-space check, as a real process (the executable when ARTIFACTD_BIN
 * names it) started under `ulimit -v`: the default 64 GiB map is refused with one line and exit 2
 * instead of lmdb-js's SIGSEGV, and a smaller map serves under the same limit.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { COMMAND, startupUrl } from './process.ts';
import { cli, startServer, type Server } from './cli-run.ts';
import { tempDir } from '../helpers.ts';

/** 8 GiB: Bun 1.4.5 takes ~4.3 GiB of it at start, leaving room for a 2 GiB map but not 64 GiB. */
const LIMIT_KB = 8 * 1024 * 1024;
/** `ulimit -v LIMIT_KB` and then artifactd itself (exec): the prefix that runs it under the limit. */
const UNDER_LIMIT = ['bash', '-c', `ulimit -v ${LIMIT_KB} && exec "$@"`, 'artifactd', ...COMMAND];

const linux = process.platform === 'linux';
const dirs: string[] = [];
const servers: Server[] = [];
const running: Bun.Subprocess[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
  for (const proc of running.splice(0)) {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await proc.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function underLimit(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([...UNDER_LIMIT, ...args], { env: { ...process.env, COLUMNS: '', ...env }, stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { out, err, code, signal: proc.signalCode };
}

describe.if(linux)('under ulimit -v 8 GiB', () => {
  test('the default 64 GiB map is refused with one line naming the limit, the map and the fix (exit 2, no crash)', async () => {
    const dir = tempDir();
    dirs.push(dir);
    for (const args of [['serve', '--port', '0', '--data-dir', dir], ['import', '-', '--data-dir', dir]]) {
      const result = await underLimit(args);
      expect(result.signal).toBeNull();
      expect(result.code).toBe(2);
      const lines = result.err.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^artifactd: the address space is limited to 8 GiB \(ulimit -v 8388608\), of which the runtime uses [\d.]+ GiB: no room for the 64 GiB LMDB map and 1 GiB to spare; run with ulimit -v unlimited, or give a smaller map that fits, e\.g\. --map-size \d+GiB \(env ARTIFACTD_MAP_SIZE\)$/,
      );
    }
    // ARTIFACTD_MAP_SIZE too large for the limit: the same refusal, with its size.
    const fromEnv = await underLimit(['migrate', '--data-dir', dir], { ARTIFACTD_MAP_SIZE: '16GiB' });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.err).toContain('no room for the 16 GiB LMDB map');
  });

  test('a 1 GiB map serves under the same limit; the other commands take --map-size too', async () => {
    const dir = tempDir();
    dirs.push(dir);
    // startServer (cli-run.ts) spawns without the limit: this one is started here.
    const proc = Bun.spawn([...UNDER_LIMIT, 'serve', '--port', '0', '--data-dir', dir, '--map-size', '1GiB'], { env: process.env, stdout: 'pipe', stderr: 'pipe' });
    running.push(proc);
    const base = await startupUrl(proc);
    const created = await fetch(`${base}/api/artifacts/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'under-limit', type: 'markdown', data: '# hi' }),
    });
    expect(created.status).toBe(201);
    const latest = await fetch(`${base}/api/artifacts/under-limit/latest`);
    expect(((await latest.json()) as { data: string }).data).toBe('# hi');
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);

    const checked = await underLimit(['check', '--data-dir', dir, '--map-size', '1GiB']);
    expect(checked.err).toBe('');
    expect(checked.out).toStartWith('ok: 1 artifacts, 1 keys');
    const listed = await underLimit(['ls', '--data-dir', dir, '--json'], { ARTIFACTD_MAP_SIZE: '512MiB' });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.out) as { key: string }[]).map((a) => a.key)).toEqual(['under-limit']);
    const backup = `${dir}-backup.mdb`;
    dirs.push(backup, `${dir}-restored`);
    expect((await underLimit(['backup', backup, '--data-dir', dir, '--map-size', '1GiB'])).code).toBe(0);
    const restored = await underLimit(['restore', backup, '--data-dir', `${dir}-restored`, '--map-size', '1GiB']);
    expect(restored.err).toBe('');
    expect(restored.code).toBe(0);
  });
});

test('a bad --map-size or ARTIFACTD_MAP_SIZE is one line and exit 2, before the store is looked for', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const bad = await cli(['check', '--data-dir', `${dir}/none`, '--map-size', '12XB']);
  expect(bad.code).toBe(2);
  expect(bad.err).toBe('artifactd: invalid map size "12XB": expected a size such as 64GiB, 16GiB or 512MiB\n');
  const small = await cli(['serve', '--port', '0', '--data-dir', dir], { ARTIFACTD_MAP_SIZE: '1MiB' });
  expect(small.code).toBe(2);
  expect(small.err).toBe('artifactd: invalid map size "1MiB": expected at least 64MiB\n');
  const help = await cli(['serve', '--help']);
  expect(help.out).toContain('--map-size SIZE');
  // Without a limit, a small map serves as well.
  const server = await startServer(['--data-dir', dir, '--map-size', '256MiB']);
  servers.push(server);
  expect((await server.call('POST', '/artifacts/', { key: 'k', type: 'markdown', data: 'x' })).status).toBe(201);
});
