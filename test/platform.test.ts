/**
 * What differs between Linux, macOS and Windows, each platform's path chosen by a parameter so
 * that all of them run here: the compiled executable's embedded paths, the signals that stop the
 * server, replacing and syncing files, and Windows' refusal to remove an open store's lock file.
 */
import { afterAll, expect, test } from 'bun:test';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shutdownSignals } from '../src/cli/serve.ts';
import { isCompiledPath } from '../src/executable.ts';
import { replaceFile, syncDir, type FileSystemOps } from '../src/files.ts';
import { BackupError, lockFileBusy } from '../src/store/lmdb/backup.ts';
import { tempDir } from './helpers.ts';

const errno = (code: string) => Object.assign(new Error(`${code}: operation failed`), { code });

test('the compiled executable is told by its embedded paths on every platform; the source is not', () => {
  for (const path of ['/$bunfs/root/artifactd', 'B:/~BUN/root/artifactd.exe', 'B:\\~BUN\\root\\artifactd.exe', 'b:/~bun/root/x']) {
    expect(isCompiledPath(path)).toBe(true);
  }
  for (const path of [undefined, '/work/main/src/main.ts', 'C:\\work\\src\\main.ts', 'B:\\work\\src\\main.ts', '/tmp/$bunfs/x']) {
    expect(isCompiledPath(path)).toBe(false);
  }
});

test('the server stops gracefully on SIGINT and SIGTERM; on Windows also Ctrl+Break and a closed console; SIGHUP stays nohup-able elsewhere', () => {
  expect(shutdownSignals('linux')).toEqual(['SIGINT', 'SIGTERM']);
  expect(shutdownSignals('darwin')).toEqual(['SIGINT', 'SIGTERM']);
  expect(shutdownSignals('win32')).toEqual(['SIGINT', 'SIGTERM', 'SIGBREAK', 'SIGHUP']);
});

/** A rename that fails with `codes`, in order, then works; and the waits it was given. */
function flakyRename(platform: NodeJS.Platform, codes: string[]) {
  const calls: [string, string][] = [];
  const waits: number[] = [];
  const ops: FileSystemOps = {
    platform,
    rename(from, to) {
      calls.push([from, to]);
      const code = codes.shift();
      if (code) throw errno(code);
    },
    sleep: (ms) => void waits.push(ms),
  };
  return { ops, calls, waits };
}

test('replaceFile: on Windows a rename refused for a moment (a scanner has the file open) is tried again', () => {
  const flaky = flakyRename('win32', ['EPERM', 'EBUSY', 'EACCES']);
  replaceFile('a.partial', 'a', flaky.ops);
  expect(flaky.calls).toHaveLength(4);
  expect(flaky.waits).toEqual([10, 20, 50]);
});

test('replaceFile: on Windows a refusal that lasts ends in its error, after about 2.5 s of waits', () => {
  const flaky = flakyRename('win32', Array(20).fill('EPERM'));
  expect(() => replaceFile('a.partial', 'a', flaky.ops)).toThrow('EPERM');
  expect(flaky.calls).toHaveLength(11);
  expect(flaky.waits.reduce((a, b) => a + b, 0)).toBe(2580);
});

test('replaceFile: elsewhere, and for other errors, the first failure is final', () => {
  for (const [platform, code] of [['linux', 'EPERM'], ['darwin', 'EBUSY'], ['win32', 'ENOENT'], ['win32', 'EXDEV']] as const) {
    const flaky = flakyRename(platform, [code]);
    expect(() => replaceFile('a.partial', 'a', flaky.ops)).toThrow(code);
    expect(flaky.calls).toHaveLength(1);
  }
});

const root = tempDir('artifactd-platform-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('replaceFile and syncDir on this system: the new file replaces the old one, the directory is synced', () => {
  writeFileSync(join(root, 'f'), 'old');
  writeFileSync(join(root, 'f.partial'), 'new');
  replaceFile(join(root, 'f.partial'), join(root, 'f'));
  syncDir(root);
  expect(readFileSync(join(root, 'f'), 'utf8')).toBe('new');
  expect(existsSync(join(root, 'f.partial'))).toBe(false);
});

test('syncDir does not open a directory on Windows (it cannot be synced there); elsewhere a missing one is an error', () => {
  expect(() => syncDir(join(root, 'no-such-dir'), { platform: 'win32' })).not.toThrow();
  expect(() => syncDir(join(root, 'no-such-dir'), { platform: 'linux' })).toThrow('ENOENT');
});

test("restore: Windows' refusal to remove an open lock file says the store is in use; other failures stay as they are", () => {
  for (const code of ['EBUSY', 'EPERM', 'EACCES']) {
    const said = lockFileBusy(errno(code), 'C:\\data', 'win32');
    expect(said).toBeInstanceOf(BackupError);
    expect((said as Error).message).toBe(
      `the store in C:\\data is open in another process (Windows refused to remove its lock.mdb: ${code}); stop the server before restoring`,
    );
  }
  const enospc = errno('ENOSPC');
  expect(lockFileBusy(enospc, 'C:\\data', 'win32')).toBe(enospc);
  // On Linux and macOS an open file can be removed; a failure there is about permissions.
  const eacces = errno('EACCES');
  expect(lockFileBusy(eacces, '/data', 'linux')).toBe(eacces);
});
