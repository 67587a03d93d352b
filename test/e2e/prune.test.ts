/**
 * Retention through the real process: `prune --older-than` beside a running server (dry run,
 * the latest-version rule, --include-latest, bad ages) and `serve --retention` pruning on its
 * own. The "old" versions of the prune tests are imported with a `created` in 2020, so no test
 * depends on how fast a busy machine runs its commands; `serve --retention 1s` waits for its
 * versions to age a second, however long that takes.
 */
import { afterAll, expect, test } from 'bun:test';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.ts';
import { cli, startServer, type Server } from './cli-run.ts';
import { outputReader, run } from './process.ts';

const dirs: string[] = [];
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function world(args: string[] = []) {
  const dir = tempDir();
  dirs.push(dir);
  const server = await startServer(['--data-dir', dir, ...args]);
  servers.push(server);
  const create = async (body: Record<string, unknown>) => (await server.call('POST', '/artifacts/', body)).body.id as string;
  return { dir, server, create };
}

/**
 * Versions published long ago, brought in through `import` (the API stamps `created` itself):
 * one per entry, created on consecutive days of January 2020. Returns their ids.
 */
async function importOld(dir: string, versions: { key: string | null; type?: string }[]): Promise<string[]> {
  const ids = versions.map(() => crypto.randomUUID());
  const lines = versions.map(({ key, type = null }, i) => {
    const created = `2020-01-${String(i + 1).padStart(2, '0')}T00:00:00Z`;
    const record = { id: ids[i], created, updated: created, key, type, description: null, data: i, metadata_: null, flow_run_id: null, task_run_id: null };
    return JSON.stringify({ kind: 'artifact', record });
  });
  const file = join(dir, 'old.ndjson');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const imported = await cli(['import', file, '--data-dir', dir]);
  expect([imported.code, imported.err]).toEqual([0, '']);
  return ids;
}

test('prune deletes versions older than the age but never a key latest; --dry-run changes nothing', async () => {
  const { dir, server, create } = await world();
  // solo: old, but the latest of its key
  const [k1, k2, solo, keyless] = await importOld(dir, [{ key: 'k' }, { key: 'k' }, { key: 'solo' }, { key: null, type: 'table' }]);
  const k3 = await create({ key: 'k', data: 3 }); // published now: younger than any age below

  const dry = await cli(['prune', '--older-than', '1h', '--dry-run', '--json', '--data-dir', dir]);
  expect(dry.code).toBe(0);
  const plan = JSON.parse(dry.out);
  expect(plan).toMatchObject({ dry_run: true, deleted: 3, kept_latest: 1 });
  expect(plan.ids).toEqual([k1, k2, keyless]);
  expect(plan.cutoff).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
  expect((await server.call('POST', '/artifacts/count', {})).body).toBe(5);

  const human = await cli(['prune', '--older-than', '1h', '--dry-run', '--data-dir', dir]);
  expect(human.out).toContain(k1);
  expect(human.out).toMatch(/Would delete 3 artifact versions created before \S+; kept 1 latest version \(--include-latest deletes them too\)\.\n$/);

  const real = await cli(['prune', '--older-than', '1h', '--data-dir', dir]);
  expect(real.code).toBe(0);
  expect(real.out).toMatch(/^Deleted 3 artifact versions created before \S+ in [\d.]+ s; kept 1 latest version/);
  const left = (await server.call('POST', '/artifacts/filter', { sort: 'CREATED_DESC' })).body.map((a: { id: string }) => a.id);
  expect(left).toEqual([k3, solo]);
  expect((await server.call('GET', '/artifacts/k/latest')).body.data).toBe(3);

  const all = await cli(['prune', '--older-than', '1h', '--include-latest', '--json', '--data-dir', dir]);
  expect(JSON.parse(all.out)).toMatchObject({ dry_run: false, deleted: 1, kept_latest: 0 });
  expect((await server.call('GET', '/artifacts/solo/latest')).status).toBe(404);
  expect((await server.call('POST', '/artifacts/latest/count', {})).body).toBe(1);
  const check = await cli(['check', '--data-dir', dir]);
  expect(check.out).toStartWith('ok: 1 artifacts, 1 keys');
});

test('prune needs a valid age: exit 2 and one line', async () => {
  const { dir } = await world();
  for (const [args, message] of [
    [['prune'], 'artifactd: prune needs --older-than AGE, e.g. --older-than 90d'],
    [['prune', '--older-than', '90'], 'artifactd: invalid duration "90": expected a positive number and a unit, e.g. 90d, 12h, 30m, 45s or 2w'],
    [['prune', '--older-than', '1y'], 'artifactd: invalid duration "1y"'],
  ] as const) {
    const { code, err } = await cli([...args, '--data-dir', dir]);
    expect(code).toBe(2);
    expect(err).toStartWith(message);
    expect(err.trimEnd().split('\n')).toHaveLength(1);
  }
  const serve = await cli(['serve', '--port', '0', '--data-dir', dir, '--retention', 'forever']);
  expect([serve.code, serve.err]).toEqual([2, 'artifactd: retention: invalid duration "forever": expected a positive number and a unit, e.g. 90d, 12h, 30m, 45s or 2w\n']);
});

test('serve --retention --log-format json: the retention line is a JSON log line too', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const proc = run(['serve', '--port', '0', '--data-dir', dir, '--retention', '1s', '--log-format', 'json']);
  servers.push({ stop: async () => void (proc.kill('SIGTERM'), await proc.exited) } as Server);
  const output = outputReader(proc.stdout);
  await output.until(/retention pruned/);
  output.reader.releaseLock();
  const line = output.text.split('\n').find((l) => l.includes('retention pruned'))!;
  expect(JSON.parse(line)).toMatchObject({ level: 'info', message: expect.stringMatching(/^artifactd: retention pruned 0 artifact versions created before /), deleted: 0 });
});

test('serve --retention prunes at start and then on its interval, logging how many went', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const proc = run(['serve', '--port', '0', '--data-dir', dir, '--retention', '1s']);
  servers.push({ stop: async () => void (proc.kill('SIGTERM'), await proc.exited) } as Server);
  // Read stdout here (not with startupUrl, which drops what follows the start-up line).
  const output = outputReader(proc.stdout);
  const base = (await output.until(/(http:\/\/127\.0\.0\.1:\d+)\/api/))![1];
  const create = async (body: object) =>
    ((await (await fetch(`${base}/api/artifacts/`, { method: 'POST', body: JSON.stringify(body) })).json()) as { id: string }).id;
  const old = await create({ key: 'r', data: 'old' });
  const latest = await create({ key: 'r', data: 'latest' });
  // The old version ages past 1 s and the next run (every second for a 1 s retention) takes it.
  await output.until(/retention pruned 1 artifact version /, 30_000);
  output.reader.releaseLock();
  const log = output.text;
  // Through the server's logger: a timestamped INFO line, like the start-up line.
  expect(log).toMatch(/^\S+Z INFO  artifactd: retention pruned 0 artifact versions created before \S+$/m);
  expect(log).toMatch(/^\S+Z INFO  artifactd: retention pruned 1 artifact version created before \S+$/m);
  expect((await fetch(`${base}/api/artifacts/${old}`)).status).toBe(404);
  expect((await fetch(`${base}/api/artifacts/${latest}`)).status).toBe(200);
  expect(((await (await fetch(`${base}/api/artifacts/r/latest`)).json()) as { data: string }).data).toBe('latest');
});
