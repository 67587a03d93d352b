/**
 * Whether another process has a store open. Every process that opens an LMDB environment holds
 * a POSIX read lock on its lock file for as long as it keeps it open, and Linux lists those locks
 * in /proc/locks (device and inode of the file, and the holder's pid). Locks die with their
 * process, so a crashed server never looks alive. Elsewhere (no /proc) the answer is "unknown".
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The pid of a process holding the store in `dir` open; null when none; undefined when unknown. */
export function processUsingStore(dir: string): number | null | undefined {
  const lockFile = join(dir, 'lock.mdb');
  if (!existsSync(lockFile)) return null;
  let locks: string;
  try {
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  const { dev, ino } = statSync(lockFile);
  // /proc/locks prints the device as hex major:minor (Linux's encoding of st_dev).
  const major = (dev >> 8) & 0xfff;
  const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  for (const line of locks.split('\n')) {
    // e.g. "8: POSIX  ADVISORY  READ 4944 fe:00:2147878 0 0" (an "->" marks a blocked waiter)
    const fields = line.replace('->', '').trim().split(/\s+/);
    const file = fields[5]?.split(':');
    if (!file || file.length !== 3) continue;
    if (Number(file[2]) !== ino || parseInt(file[0], 16) !== major || parseInt(file[1], 16) !== minor) continue;
    const pid = Number(fields[4]);
    if (pid !== process.pid) return pid > 0 ? pid : -1;
  }
  return null;
}
