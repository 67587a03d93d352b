/**
 * Whether another process has a store open. Every process that opens an LMDB environment keeps
 * its lock file (`lock.mdb`) open, and on POSIX systems holds a read lock on it, for as long as
 * it keeps the store open; both end with the process, so a crashed server never looks alive.
 *
 * - Linux: /proc/locks lists every lock of every process (device and inode of the file, and the
 *   holder's pid), whoever runs it.
 * - macOS and other Unix systems: `lsof -t` lists the processes that have the lock file open.
 *   Without root it sees only this user's processes, so an empty answer for a lock file owned by
 *   another user is "unknown", not "none". No lsof: "unknown".
 * - Windows: "unknown" here. Windows itself refuses to delete or replace a file another process
 *   has open, which is what restore relies on there (backup.ts).
 *
 * The probes are parameters so each platform's path runs in the tests on any machine.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface InUseProbes {
  platform: NodeJS.Platform;
  /** Linux's /proc/locks; throws where there is none. */
  procLocks(): string;
  /** `lsof -t FILE`: pids with the file open; null when lsof is missing or failed. */
  lsof(file: string): number[] | null;
  /** This process's uid; undefined on Windows. */
  uid(): number | undefined;
  pid: number;
}

function runLsof(file: string): number[] | null {
  let result;
  try {
    // -t: pids only (and -w, no warnings). Exit 1 with no output is "nobody has it open".
    result = Bun.spawnSync(['lsof', '-t', '--', file], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', timeout: 10_000 });
  } catch {
    return null; // not installed
  }
  const out = result.stdout.toString().trim();
  if (result.exitCode === 0 || (result.exitCode === 1 && out === '' && result.stderr.toString().trim() === '')) {
    return out === '' ? [] : out.split(/\s+/).map(Number).filter((pid) => Number.isInteger(pid) && pid > 0);
  }
  return null;
}

export const systemProbes: InUseProbes = {
  platform: process.platform,
  procLocks: () => readFileSync('/proc/locks', 'utf8'),
  lsof: runLsof,
  uid: () => process.getuid?.(),
  pid: process.pid,
};

/** The pid of a process holding the store in `dir` open; null when none; undefined when unknown. */
export function processUsingStore(dir: string, probes: InUseProbes = systemProbes): number | null | undefined {
  const lockFile = join(dir, 'lock.mdb');
  if (!existsSync(lockFile)) return null;
  if (probes.platform === 'win32') return undefined;
  if (probes.platform === 'linux') {
    let locks: string | undefined;
    try {
      locks = probes.procLocks();
    } catch {
      // /proc not mounted (a minimal container): try lsof below
    }
    if (locks !== undefined) return holderInProcLocks(locks, lockFile, probes.pid);
  }
  const pids = probes.lsof(lockFile);
  if (pids === null) return undefined;
  const other = pids.find((pid) => pid !== probes.pid);
  if (other !== undefined) return other;
  // lsof shows other users' processes only to root.
  const uid = probes.uid();
  if (uid !== undefined && uid !== 0 && statSync(lockFile).uid !== uid) return undefined;
  return null;
}

/** The holder of a lock on `lockFile` in /proc/locks' text, other than `self`. */
function holderInProcLocks(locks: string, lockFile: string, self: number): number | null {
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
    if (pid !== self) return pid > 0 ? pid : -1;
  }
  return null;
}
