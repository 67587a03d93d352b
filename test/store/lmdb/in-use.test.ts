/**
 * "Is this store open in another process?" on each platform's path (src/store/lmdb/in-use.ts),
 * against a store a real child process holds open: Linux's /proc/locks, lsof as macOS uses it
 * (run here on Linux, where lsof is installed), no lsof, and Windows (unknown).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processUsingStore, systemProbes, type InUseProbes } from '../../../src/store/lmdb/in-use.ts';
import { LmdbStore } from '../../../src/store/lmdb/store.ts';
import { tempDir } from '../../helpers.ts';

const STORE = new URL('../../../src/store/lmdb/store.ts', import.meta.url).pathname;
const root = tempDir('artifactd-in-use-');
const held = join(root, 'held');
const closed = join(root, 'closed');
let holder: ReturnType<typeof Bun.spawn>;

beforeAll(async () => {
  // A store opened and closed again: its lock file stays, nobody holds it.
  await LmdbStore.open(closed).close();
  // A store another process keeps open until its stdin closes.
  holder = Bun.spawn(
    [process.execPath, '-e', `const { LmdbStore } = await import(${JSON.stringify(STORE)}); LmdbStore.open(${JSON.stringify(held)}); console.log('open'); for await (const _ of Bun.stdin.stream()) {}`],
    { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' },
  );
  const reader = (holder.stdout as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toContain('open');
});

afterAll(async () => {
  (holder.stdin as import('bun').FileSink).end();
  await holder.exited;
  rmSync(root, { recursive: true, force: true });
});

const haveProcLocks = existsSync('/proc/locks');
const haveLsof = Bun.which('lsof') !== null;
const as = (overrides: Partial<InUseProbes>): InUseProbes => ({ ...systemProbes, ...overrides });

test('no lock file: nobody, on every platform', () => {
  for (const platform of ['linux', 'darwin', 'win32'] as const) expect(processUsingStore(join(root, 'none'), as({ platform }))).toBeNull();
});

test.skipIf(!haveProcLocks)('Linux: /proc/locks names the holder, and nobody once it is closed', () => {
  const probes = as({ platform: 'linux', lsof: () => { throw new Error('lsof is not asked on Linux'); } });
  expect(processUsingStore(held, probes)).toBe(holder.pid);
  expect(processUsingStore(closed, probes)).toBeNull();
});

test.skipIf(!haveLsof)('macOS and other Unix systems: lsof names the holder, and nobody once it is closed', () => {
  const probes = as({ platform: 'darwin', procLocks: () => { throw new Error('no /proc on macOS'); } });
  expect(processUsingStore(held, probes)).toBe(holder.pid);
  expect(processUsingStore(closed, probes)).toBeNull();
  // Linux without /proc mounted falls back to lsof.
  expect(processUsingStore(held, as({ platform: 'linux', procLocks: () => { throw new Error('no /proc'); } }))).toBe(holder.pid);
});

test('lsof missing or failing: unknown', () => {
  const probes = as({ platform: 'darwin', lsof: () => null });
  expect(processUsingStore(held, probes)).toBeUndefined();
  expect(processUsingStore(closed, probes)).toBeUndefined();
});

test("lsof sees nobody, but the lock file is another user's and this is not root: unknown (lsof shows only one's own processes)", () => {
  const probes = as({ platform: 'darwin', lsof: () => [], uid: () => 4242 });
  expect(processUsingStore(closed, probes)).toBeUndefined();
  // This process's own pid is not "another process".
  expect(processUsingStore(closed, as({ platform: 'darwin', lsof: () => [process.pid], uid: () => 0 }))).toBeNull();
});

test('Windows: unknown (Windows refuses to remove an open lock file instead: backup.ts)', () => {
  expect(processUsingStore(held, as({ platform: 'win32' }))).toBeUndefined();
});
