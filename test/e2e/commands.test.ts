/**
 * `ls`, `inspect` and `delete` as a user runs them: real processes against the data dir of a
 * running server (seeded over HTTP) and against the server itself with `--api` — exit codes,
 * human tables, and `--json` equal to what the REST API answers.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LmdbStore as Store } from '../../src/store/lmdb/store.ts';
import { tempDir } from '../helpers.ts';
import { cli, startServer, type Server } from './cli-run.ts';
import { COMMAND, outputReader } from './process.ts';

const dirs: string[] = [];
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function seeded(args: string[] = [], env: Record<string, string> = {}, auth?: string) {
  const dir = tempDir();
  dirs.push(dir);
  const server = await startServer(['--data-dir', dir, ...args], env);
  servers.push(server);
  // Seed as any client must: with the auth string, and a CSRF token when the server wants one.
  const headers: Record<string, string> = {};
  if (auth) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  const csrf = await server.call('GET', '/csrf-token?client=seed', undefined, headers);
  if (csrf.status === 200) Object.assign(headers, { 'prefect-csrf-token': csrf.body.token, 'prefect-csrf-client': 'seed' });
  const create = async (body: Record<string, unknown>) => {
    const reply = await server.call('POST', '/artifacts/', body, headers);
    expect(reply.status).toBe(201);
    return reply.body as { id: string; created: string };
  };
  const sales = [];
  for (let i = 0; i < 3; i++) {
    sales.push(await create({ key: 'nightly-sales', type: 'markdown', description: `Sales v${i}\nsecond line`, data: `# Sales\n${i}` }));
  }
  const rows = await create({ key: 'rows', type: 'progress', data: 40 });
  const keyless = await create({ type: 'table', data: [{ big: 1 }] });
  return { dir, server, sales, rows, keyless };
}

describe('against the data dir of a running server', () => {
  let world: Awaited<ReturnType<typeof seeded>>;
  beforeAll(async () => {
    world = await seeded();
  });
  const local = (...args: string[]) => cli([...args, '--data-dir', world.dir]);

  test('ls prints the latest version of each key as a table, ids being the latest versions', async () => {
    const { code, out, err } = await local('ls');
    expect([code, err]).toEqual([0, '']);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+KEY\s+TYPE\s+UPDATED\s+DESCRIPTION$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^${world.sales[2].id}\\s+nightly-sales\\s+markdown\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+Sales v2$`));
    expect(lines[2]).toMatch(new RegExp(`^${world.rows.id}\\s+rows\\s+progress\\s`));
    expect(out).not.toContain(world.sales[0].id);
  });

  test('ls --json is what POST /artifacts/latest/filter answers; --all --json what /artifacts/filter answers', async () => {
    const latest = await local('ls', '--json');
    expect(latest.code).toBe(0);
    expect(latest.out).toBe(`${(await world.server.call('POST', '/artifacts/latest/filter', { sort: 'KEY_ASC' })).text}\n`);
    const all = await local('ls', '--all', '--json');
    const reply = await world.server.call('POST', '/artifacts/filter', { sort: 'KEY_ASC' });
    expect(all.out).toBe(`${reply.text}\n`); // byte for byte
    const api = reply.body;
    expect(api).toHaveLength(5);
    // Prefect's spelling works too, and --limit cuts the list.
    const limited = await local('ls', '-a', '-o', 'json', '--limit', '2');
    expect(JSON.parse(limited.out)).toEqual(api.slice(0, 2));
  });

  test('inspect lists every version of a key newest first; --limit keeps the newest', async () => {
    const json = await local('inspect', 'nightly-sales', '--json');
    expect(json.code).toBe(0);
    const versions = JSON.parse(json.out);
    expect(versions.map((v: { id: string }) => v.id)).toEqual(world.sales.map((s) => s.id).reverse());
    const api = await world.server.call('POST', '/artifacts/filter', { artifacts: { key: { any_: ['nightly-sales'] } }, sort: 'CREATED_DESC' });
    expect(versions).toEqual(api.body);

    const human = await local('inspect', 'nightly-sales');
    const lines = human.out.trimEnd().split('\n');
    expect(lines[0]).toBe('nightly-sales: 3 versions, newest first');
    expect(lines[1]).toMatch(/^ID\s+CREATED\s+UPDATED\s+TYPE\s+DESCRIPTION\s+DATA$/);
    expect(lines.slice(2).map((l) => l.slice(0, 36))).toEqual(world.sales.map((s) => s.id).reverse());
    expect(lines[2]).toMatch(/\sSales v2\s+# Sales 2$/);

    const one = await local('inspect', 'nightly-sales', '--limit', '1', '--json');
    expect(JSON.parse(one.out).map((v: { id: string }) => v.id)).toEqual([world.sales[2].id]);
  });

  test('inspect of an unknown key: exit 1 and one line', async () => {
    const { code, out, err } = await local('inspect', 'no-such-key');
    expect([code, out, err]).toEqual([1, '', 'artifactd: artifact "no-such-key" not found\n']);
  });

  test('usage mistakes: exit 2 with one line', async () => {
    for (const args of [
      ['inspect'],
      ['ls', '--limit', '0'],
      ['ls', '--output', 'yaml'],
      ['delete'],
      ['delete', 'k', '--id', world.rows.id],
      ['delete', '--id', 'not-a-uuid', '--yes'],
      ['ls', '--api', 'localhost:4200'],
    ]) {
      const { code, err } = await local(...args);
      expect(code).toBe(2);
      expect(err).toStartWith('artifactd: ');
      expect(err.trimEnd().split('\n')).toHaveLength(1);
    }
    const missing = await cli(['ls', '--data-dir', join(world.dir, 'absent')]);
    expect([missing.code, missing.err]).toEqual([2, `artifactd: no store in ${join(world.dir, 'absent')}\n`]);
  });

  test('delete without --yes when stdin is not a terminal refuses and deletes nothing', async () => {
    for (const args of [['delete', 'nightly-sales'], ['delete', '--id', world.rows.id]]) {
      const { code, err } = await local(...args);
      expect(code).toBe(2);
      expect(err).toContain('refusing without confirmation because stdin is not a terminal; pass --yes');
    }
    expect((await world.server.call('POST', '/artifacts/count', {})).body).toBe(5);
  });

  // On a terminal, delete asks; `script` gives the process a pseudo-terminal.
  test.skipIf(!Bun.which('script'))('delete asks on a terminal: "n", Ctrl+D or Ctrl+C aborts with exit 1, "y" deletes', async () => {
    const answer = async (reply: string, id: string) => {
      const command = [...COMMAND, 'delete', '--id', id, '--data-dir', world.dir].map((a) => `'${a}'`).join(' ');
      const proc = Bun.spawn(['script', '-qec', command, '/dev/null'], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
      const output = outputReader(proc.stdout);
      await output.until(/\[y\/N\]/);
      proc.stdin.write(reply);
      await proc.stdin.end();
      const out = await output.rest();
      return { code: await proc.exited, out };
    };
    const no = await answer('n\n', world.keyless.id);
    expect(no.out).toContain(`Delete keyless artifact ${world.keyless.id}? [y/N]`);
    expect(no.out).toContain('artifactd: deletion aborted');
    expect(no.code).toBe(1);
    for (const key of ['\x04', '\x03']) {
      const aborted = await answer(key, world.keyless.id);
      expect(aborted.out).not.toContain('AbortError');
      expect(aborted.out).toContain('artifactd: deletion aborted');
      expect(aborted.code).toBe(1);
    }
    expect((await world.server.call('GET', `/artifacts/${world.keyless.id}`)).status).toBe(200);
    const yes = await answer('y\n', world.keyless.id);
    expect(yes.out).toContain(`Deleted artifact ${world.keyless.id}.`);
    expect(yes.code).toBe(0);
    expect((await world.server.call('GET', `/artifacts/${world.keyless.id}`)).status).toBe(404);
  });

  test('delete --id of the latest version: the key falls back to the previous version', async () => {
    const { code, out } = await local('delete', '--id', world.sales[2].id, '--yes');
    expect([code, out]).toEqual([0, `Deleted artifact ${world.sales[2].id}.\n`]);
    const latest = await world.server.call('POST', '/artifacts/latest/filter', { artifacts: { key: { any_: ['nightly-sales'] } } });
    expect(latest.body[0].latest_id).toBe(world.sales[1].id);
    expect(latest.body[0].description).toBe('Sales v1\nsecond line');
    const again = await local('delete', '--id', world.sales[2].id, '--yes');
    expect([again.code, again.err]).toEqual([1, `artifactd: no artifact with id ${world.sales[2].id}\n`]);
    expect(JSON.parse((await cli(['check', '--json', '--data-dir', world.dir])).out).findings).toEqual([]);
  });

  test('delete KEY --yes removes every version; the latest route then answers 404; a second delete exits 1', async () => {
    const { code, out } = await local('delete', 'nightly-sales', '--yes', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ key: 'nightly-sales', deleted: 2 });
    expect((await world.server.call('GET', '/artifacts/nightly-sales/latest')).status).toBe(404);
    expect((await world.server.call('POST', '/artifacts/count', { artifacts: { key: { any_: ['nightly-sales'] } } })).body).toBe(0);
    const again = await local('delete', 'nightly-sales', '--yes');
    expect(again.code).toBe(1);
    expect(again.err).toStartWith('artifactd: no artifact with key "nightly-sales"');
    const check = await cli(['check', '--data-dir', world.dir]);
    expect(check.code).toBe(0);
    expect(check.out).toStartWith('ok: 1 artifacts, 1 keys');
  });
  test('--json keeps data exactly as stored: integers beyond 2^53 are not rounded', async () => {
    const raw = '{"key": "exact", "data": {"n": 9007199254740993}}';
    const created = await fetch(`${world.server.api}/artifacts/`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json' } });
    expect(created.status).toBe(201);
    for (const args of [['ls', '--json'], ['inspect', 'exact', '--json']]) {
      expect((await local(...args)).out).toContain('"data":{"n": 9007199254740993}'); // the client's own text
    }
  });
});

describe('against a server with --api, basic auth and CSRF on', () => {
  const AUTH = 'admin:s3cret';
  let world: Awaited<ReturnType<typeof seeded>>;
  beforeAll(async () => {
    // A server limit of 2 makes the client page through the filter routes.
    world = await seeded(['--auth-string', AUTH, '--default-limit', '2'], { PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED: 'true' }, AUTH);
  });

  const remote = (args: string[], env: Record<string, string> = { PREFECT_API_AUTH_STRING: AUTH }) =>
    cli([...args, '--api', world.server.api], env);

  test('ls --all pages through a server whose limit is 2 and equals the local listing', async () => {
    const viaApi = await remote(['ls', '--all', '--json']);
    expect(viaApi.code).toBe(0);
    const rows = JSON.parse(viaApi.out);
    expect(rows).toHaveLength(5);
    const viaDir = await cli(['ls', '--all', '--json', '--data-dir', world.dir]);
    expect(rows).toEqual(JSON.parse(viaDir.out));
    const human = await remote(['ls']);
    expect(human.out).toContain(world.rows.id);
    expect(human.out).toContain(world.sales[2].id);
  });

  test('the auth string comes from --auth-string or PREFECT_API_AUTH_STRING; without it: exit 1, one line', async () => {
    const flag = await remote(['inspect', 'rows', '--json', '--auth-string', AUTH], {});
    expect(flag.code).toBe(0);
    expect(JSON.parse(flag.out)[0].id).toBe(world.rows.id);
    const none = await remote(['ls'], {});
    expect(none.code).toBe(1);
    expect(none.err).toBe(`artifactd: ${world.server.api} refused the credentials (401): check --auth-string or PREFECT_API_AUTH_STRING\n`);
  });

  test('delete through the API carries the CSRF token and falls back like the route', async () => {
    const one = await remote(['delete', '--id', world.sales[2].id, '--yes']);
    expect([one.code, one.err]).toEqual([0, '']);
    const latest = await world.server.call('GET', '/artifacts/nightly-sales/latest', undefined, {
      authorization: `Basic ${Buffer.from(AUTH).toString('base64')}`,
    });
    expect(latest.body.data).toBe('# Sales\n1');
    const key = await remote(['delete', 'nightly-sales', '--yes']);
    expect([key.code, key.out]).toEqual([0, 'Deleted 2 artifact versions with key "nightly-sales".\n']);
    const gone = await remote(['inspect', 'nightly-sales']);
    expect(gone.code).toBe(1);
  });

  test('the root URL instead of the /api URL: the 403 for a missing CSRF token says which URL to give', async () => {
    const root = world.server.api.replace(/\/api$/, '');
    const { code, err } = await cli(['ls', '--api', root], { PREFECT_API_AUTH_STRING: AUTH });
    expect(code).toBe(1);
    expect(err).toBe(`artifactd: ${root} refused the request (403): {"detail":"Missing CSRF token."} (is ${root} the API's URL, ending in /api?)\n`);
  });

  test('an unreachable server: exit 1, one line', async () => {
    const { code, err } = await cli(['ls', '--api', 'http://127.0.0.1:9/api']);
    expect(code).toBe(1);
    expect(err).toStartWith('artifactd: cannot reach http://127.0.0.1:9/api');
    expect(err.trimEnd().split('\n')).toHaveLength(1);
  });
});

test('long output through a pipe arrives whole and once (a 2,000-row table is over 64 KiB)', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const store = Store.open(dir);
  const base = { type: 'markdown', description: 'a version', data: '"x"', metadata: null, flowRunId: null, taskRunId: null };
  await Promise.all(Array.from({ length: 2000 }, (_, i) => store.artifacts.create({ ...base, key: `key-${i % 40}` })));
  await store.close();
  const table = await cli(['ls', '--all', '--limit', '5000', '--data-dir', dir]);
  expect(table.code).toBe(0);
  const lines = table.out.trimEnd().split('\n');
  expect(lines).toHaveLength(2001);
  expect(new Set(lines.slice(1).map((l) => l.slice(0, 36))).size).toBe(2000);
  const json = await cli(['ls', '--all', '--limit', '5000', '--json', '--data-dir', dir]);
  expect(JSON.parse(json.out)).toHaveLength(2000);
});
