/**
 * Putting a finished file in place so that it survives a crash, on every system: sync the file,
 * rename it over the old one, sync the directory that holds it.
 *
 * Windows differs in two ways. A directory cannot be opened for syncing (and need not be: NTFS
 * journals the rename itself), so syncDir does nothing there. And a rename over a file that
 * another process has open for a moment (an antivirus scanner, the search indexer) fails with
 * EPERM, EACCES or EBUSY instead of replacing it; replaceFile tries again for a while, as
 * graceful-fs does for npm, before giving up with that error. Elsewhere a rename replaces the
 * old file at once, and its failures are final.
 */
import { closeSync, fsyncSync, openSync, renameSync } from 'node:fs';

export interface FileSystemOps {
  platform: NodeJS.Platform;
  rename(from: string, to: string): void;
  sleep(ms: number): void;
}

const system: FileSystemOps = { platform: process.platform, rename: renameSync, sleep: (ms) => Bun.sleepSync(ms) };

/** Flushes a file to disk. */
export function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a directory's entries (a rename in it) to disk; nothing to do on Windows. */
export function syncDir(dir: string, ops: Pick<FileSystemOps, 'platform'> = system): void {
  if (ops.platform === 'win32') return;
  syncFile(dir);
}

/** Waits between attempts, in ms: about 2.5 s in all before the error stands. */
const RETRY_WAITS = [10, 20, 50, 100, 200, 300, 400, 500, 500, 500];
const TRANSIENT = new Set(['EPERM', 'EACCES', 'EBUSY']);

/** Renames `from` to `to`, replacing `to`. */
export function replaceFile(from: string, to: string, ops: FileSystemOps = system): void {
  for (let attempt = 0; ; attempt++) {
    try {
      ops.rename(from, to);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (ops.platform !== 'win32' || !TRANSIENT.has(code ?? '') || attempt >= RETRY_WAITS.length) throw error;
      ops.sleep(RETRY_WAITS[attempt]);
    }
  }
}
