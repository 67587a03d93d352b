/**
 * `backup` and `restore` through the real process: a backup taken while writers keep a server
 * busy restores into a store that passes `check` and holds every write acknowledged before the
 * backup began; refusals (existing file, non-empty dir, bad file) change nothing.
 */
import { afterAll, expect, test } from 'bun:test';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupStore } from '../../src/store/lmdb/backup.ts';
import { LmdbStore as Store } from '../../src/store/lmdb/store.ts';
import { tempDir } from '../helpers.ts';
import { cli, startServer, type Server } from './cli-run.ts';

const dirs: string[] = [];
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}

async function server(dir: string): Promise<Server> {
  const s = await startServer(['--data-dir', dir]);
  servers.push(s);
  return s;
}

const ids = (out: string) => (JSON.parse(out) as { id: string }[]).map((a) => a.id);

test('a backup under write load restores, passes check and holds every write acknowledged before it began', async () => {
  const root = scratch();
  const data = join(root, 'data');
  const live = await server(data);
  const payload = 'x'.repeat(2000);
  await Promise.all(Array.from({ length: 300 }, (_, i) => live.call('POST', '/artifacts/', { key: `seed-${i % 20}`, data: payload })));

  // Four writers create versions on shared keys until the backup is done (each bounded in count
  // and time, and generous in both, so that a slow machine still has them writing throughout).
  // A write whose connection failed (seen once as ECONNRESET on a machine loaded far past its
  // cores) got no answer: it may or may not be stored, so it only widens the upper bound below,
  // and that writer stops.
  const acknowledged: string[] = [];
  let unanswered = 0;
  let stop = false;
  const deadline = Date.now() + 60_000;
  const writer = async (w: number) => {
    for (let i = 0; i < 5000 && !stop && Date.now() < deadline; i++) {
      let reply;
      try {
        reply = await live.call('POST', '/artifacts/', { key: `load-${(w + i) % 7}`, data: { w, i } });
      } catch {
        unanswered++;
        return;
      }
      expect(reply.status).toBe(201);
      acknowledged.push(reply.body.id);
    }
  };
  const writers = [0, 1, 2, 3].map(writer);
  while (acknowledged.length < 50 && Date.now() < deadline) await Bun.sleep(5);

  const before = [...acknowledged];
  const file = join(root, 'backups', 'store.mdb');
  const backup = await cli(['backup', file, '--data-dir', data, '--json']);
  const duringBackup = acknowledged.length - before.length;
  stop = true;
  await Promise.all(writers);
  expect([backup.code, backup.err]).toEqual([0, '']);
  const report = JSON.parse(backup.out);
  expect(report.file).toBe(file);
  expect(report.bytes).toBe(readFileSync(file).length);
  expect(duringBackup).toBeGreaterThan(0); // the server kept acknowledging writes meanwhile
  expect(readdirSync(join(root, 'backups'))).toEqual(['store.mdb']); // no staging left behind

  const restored = join(root, 'restored');
  const restore = await cli(['restore', file, '--data-dir', restored]);
  expect([restore.code, restore.err]).toEqual([0, '']);
  expect(restore.out).toMatch(new RegExp(`^Restored ${file} into ${restored}: \\d+ artifacts, 27 keys; check passed\\.\\n$`));
  const check = await cli(['check', '--data-dir', restored, '--json']);
  expect(check.code).toBe(0);
  expect(JSON.parse(check.out).findings).toEqual([]);

  const inBackup = new Set(ids((await cli(['ls', '--all', '--json', '--limit', '100000', '--data-dir', restored])).out));
  for (const id of before) expect(inBackup.has(id)).toBe(true);
  expect(inBackup.size).toBeGreaterThanOrEqual(300 + before.length);
  expect(inBackup.size).toBeLessThanOrEqual(300 + acknowledged.length + unanswered);

  // The restored store serves.
  const again = await server(restored);
  expect((await again.call('GET', `/artifacts/${before[0]}`)).status).toBe(200);
});

test('backup refuses to replace an existing file without --force, and needs a store', async () => {
  const root = scratch();
  const data = join(root, 'data');
  const live = await server(data);
  expect((await live.call('POST', '/artifacts/', { key: 'one' })).status).toBe(201);
  const file = join(root, 'backup.mdb');
  writeFileSync(file, 'keep me');
  const refused = await cli(['backup', file, '--data-dir', data]);
  expect([refused.code, refused.err]).toEqual([2, `artifactd: ${file} exists; pass --force to replace it\n`]);
  expect(readFileSync(file, 'utf8')).toBe('keep me');

  const forced = await cli(['backup', file, '--data-dir', data, '--force']);
  expect(forced.code).toBe(0);
  expect(forced.out).toMatch(/^Backed up the store \(about 1 artifacts, 1 keys\) to .*: [\d.]+ MiB in [\d.]+ s\.\n$/);
  expect(readFileSync(file).length).toBeGreaterThan(4096);

  const none = await cli(['backup', join(root, 'x.mdb'), '--data-dir', join(root, 'empty')]);
  expect(none.code).toBe(2);
  expect(none.err).toStartWith('artifactd: no store in');
  expect(existsSync(join(root, 'x.mdb'))).toBe(false);
});

test('restore into a --data-dir that is a file: one line, exit 2, the file untouched', async () => {
  const root = scratch();
  const notDir = join(root, 'not-a-dir');
  writeFileSync(notDir, 'keep me');
  const backup = join(root, 'b.mdb');
  writeFileSync(backup, 'any');
  const refused = await cli(['restore', backup, '--data-dir', notDir, '--force']);
  expect([refused.code, refused.err]).toEqual([2, `artifactd: ${notDir} is not a directory; --data-dir names the directory to restore into\n`]);
  expect(readFileSync(notDir, 'utf8')).toBe('keep me');
});

test('restore refuses a non-empty dir without --force; a bad file leaves the dir as it was', async () => {
  const root = scratch();
  const source = join(root, 'source');
  const live = await server(source);
  const kept = (await live.call('POST', '/artifacts/', { key: 'from-backup', data: 1 })).body.id;
  const file = join(root, 'b.mdb');
  expect((await cli(['backup', file, '--data-dir', source])).code).toBe(0);

  // A dir with another store in it.
  const target = join(root, 'target');
  const other = await server(target);
  const otherId = (await other.call('POST', '/artifacts/', { key: 'already-here' })).body.id;
  if (process.platform === 'linux') {
    // Never under a running server, --force or not.
    const busy = await cli(['restore', file, '--data-dir', target, '--force']);
    expect(busy.code).toBe(2);
    expect(busy.err).toBe(`artifactd: the store in ${target} is open in another process (pid ${other.proc.pid}); stop the server before restoring\n`);
    expect((await other.call('GET', `/artifacts/${otherId}`)).status).toBe(200);
  }
  await other.stop();

  const refused = await cli(['restore', file, '--data-dir', target]);
  expect([refused.code, refused.err]).toEqual([2, `artifactd: ${target} is not empty; pass --force to replace its store\n`]);
  expect(ids((await cli(['ls', '--all', '--json', '--data-dir', target])).out)).toEqual([otherId]);

  const garbage = join(root, 'garbage.mdb');
  writeFileSync(garbage, 'this is not LMDB'.repeat(1000));
  const bad = await cli(['restore', garbage, '--data-dir', target, '--force']);
  expect(bad.code).toBe(1);
  expect(bad.err).toStartWith(`artifactd: ${garbage} is not a usable artifactd backup`);
  expect(bad.err.trimEnd().split('\n')).toHaveLength(1);
  expect(ids((await cli(['ls', '--all', '--json', '--data-dir', target])).out)).toEqual([otherId]);

  // A truncated backup passes the magic-number test but cannot be mapped: the check runs in a
  // child process, so that failure is a one-line error too, and the dir is untouched.
  const truncated = join(root, 'truncated.mdb');
  writeFileSync(truncated, readFileSync(file).subarray(0, 8192));
  const cut = await cli(['restore', truncated, '--data-dir', target, '--force']);
  expect(cut.code).toBe(1);
  expect(cut.err).toStartWith(`artifactd: ${truncated} is not a usable artifactd backup: `);
  expect(cut.err.trimEnd().split('\n')).toHaveLength(1);
  expect(ids((await cli(['ls', '--all', '--json', '--data-dir', target])).out)).toEqual([otherId]);
  expect(readdirSync(target).sort()).toEqual(['data.mdb', 'lock.mdb']);

  const missing = await cli(['restore', join(root, 'nope.mdb'), '--data-dir', join(root, 'fresh')]);
  expect([missing.code, missing.err]).toEqual([1, `artifactd: no backup file at ${join(root, 'nope.mdb')}\n`]);

  const forced = await cli(['restore', file, '--data-dir', target, '--force', '--json']);
  expect(forced.code).toBe(0);
  expect(JSON.parse(forced.out)).toMatchObject({ ok: true, counts: { artifacts: 1, collections: 1 } });
  expect(ids((await cli(['ls', '--all', '--json', '--data-dir', target])).out)).toEqual([kept]);
  expect(readdirSync(target).sort()).toEqual(['data.mdb', 'lock.mdb']);

  // An empty dir needs no --force; a dir name with a dot is a dir.
  const dotted = join(root, 'restored.d');
  mkdirSync(dotted);
  expect((await cli(['restore', file, '--data-dir', dotted])).code).toBe(0);
  expect((await cli(['check', '--data-dir', dotted])).code).toBe(0);
});

test('restore refuses a backup that opens but fails check, naming the first problem', async () => {
  const root = scratch();
  const store = Store.open(join(root, 'broken'));
  await store.artifacts.create({ key: 'k', type: null, description: null, data: '1', metadata: null, flowRunId: null, taskRunId: null });
  await store.dbs.counters.put('artifacts', 99); // a counter that lies
  const file = join(root, 'broken.mdb');
  await backupStore(store, file);
  await store.close();
  const target = join(root, 'target');
  const refused = await cli(['restore', file, '--data-dir', target]);
  expect([refused.code, refused.err]).toEqual([1, `artifactd: ${file} fails the store check (1 problem): counters: artifacts is 99, real count 1\n`]);
  expect(existsSync(join(target, 'data.mdb'))).toBe(false);
});
