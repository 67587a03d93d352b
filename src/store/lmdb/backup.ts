/**
 * Online backup and restore of a store. A backup is one file: LMDB's compacting copy of the
 * environment (`mdb_env_copy2` with MDB_CP_COMPACT), taken inside a read transaction, so it is a
 * consistent snapshot even while a server keeps writing, and it holds only live pages. Restoring
 * places that file as `data.mdb` of a data dir, which is how `env.ts` opens a store.
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { replaceFile, syncDir, syncFile } from '../../files.ts';
import { LmdbStore as Store } from './store.ts';

export class BackupError extends Error {}

export interface BackupResult {
  file: string;
  bytes: number;
  milliseconds: number;
}

/**
 * Writes a compacted copy of `store` to `file`. The copy goes to a temporary directory beside
 * `file` and is renamed into place once complete and synced, so a failed backup never leaves a
 * partial file under the requested name.
 */
export async function backupStore(store: Store, file: string): Promise<BackupResult> {
  const target = resolve(file);
  const started = performance.now();
  mkdirSync(dirname(target), { recursive: true });
  const staging = mkdtempSync(join(dirname(target), `.${basename(target)}.partial-`));
  try {
    // The environment is opened as a directory, so LMDB writes `<staging>/data.mdb`.
    await store.dbs.env.backup(staging, true);
    const copy = join(staging, 'data.mdb');
    syncFile(copy);
    replaceFile(copy, target);
    syncDir(dirname(target));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { file: target, bytes: statSync(target).size, milliseconds: performance.now() - started };
}

/**
 * Windows will not delete a file another process has open: a store open in a server (whose use
 * in-use.ts cannot see there) stops a restore at its lock file, before anything is replaced.
 * That refusal, said as what it means; any other failure as it is.
 */
export function lockFileBusy(error: unknown, dir: string, platform: NodeJS.Platform): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (platform !== 'win32' || (code !== 'EBUSY' && code !== 'EPERM' && code !== 'EACCES')) return error;
  return new BackupError(`the store in ${dir} is open in another process (Windows refused to remove its lock.mdb: ${code}); stop the server before restoring`);
}

export interface RestoreResult {
  dir: string;
  counts: ReturnType<Store['counts']>;
}

/** Whether `dir` exists and holds anything. */
export function isNonEmptyDir(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).length > 0;
}

/** LMDB's magic number, in the meta page at the start of every data file (after a 24-byte page header). */
const LMDB_MAGIC = 0xbeefc0de;
const MAGIC_OFFSET = 24;

/** Cheap first test of a backup file: LMDB's magic number where LMDB puts it. */
function looksLikeLmdb(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(MAGIC_OFFSET + 4);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.readUInt32LE(MAGIC_OFFSET) === LMDB_MAGIC;
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks a store in `dir` and returns its findings. The default opens it in this process; the
 * CLI passes one that runs `artifactd check` in a child process, because LMDB maps the file and
 * a truncated or corrupt one can kill the process that reads it (SIGBUS), which must not be ours.
 */
export type StoreVerifier = (dir: string) => Promise<string[]>;

const verifyInProcess: StoreVerifier = async (dir) => {
  const store = Store.open(dir);
  try {
    return store.check();
  } finally {
    await store.close();
  }
};

/**
 * Restores `file` into `dir`. The copy is opened and checked in a staging directory inside
 * `dir` first: only a backup that opens and passes `check` replaces `data.mdb` (and the old lock
 * file), so a bad file leaves `dir` as it was. The caller decides whether a non-empty `dir` may
 * be overwritten; no server may be running on it.
 */
export async function restoreStore(file: string, dir: string, verify: StoreVerifier = verifyInProcess, options: { mapSize?: number } = {}): Promise<RestoreResult> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new BackupError(`no backup file at ${file}`);
  if (!looksLikeLmdb(file)) throw new BackupError(`${file} is not a usable artifactd backup: not an LMDB data file`);
  mkdirSync(dir, { recursive: true });
  const staging = mkdtempSync(join(dir, '.restore-'));
  try {
    const copy = join(staging, 'data.mdb');
    copyFileSync(file, copy);
    syncFile(copy);
    let findings: string[];
    try {
      findings = await verify(staging);
    } catch (error) {
      throw new BackupError(`${file} is not a usable artifactd backup: ${(error as Error).message.replace(/^cannot open store in \S+: /, '')}`);
    }
    if (findings.length > 0) {
      throw new BackupError(`${file} fails the store check (${findings.length} problem${findings.length === 1 ? '' : 's'}): ${findings[0]}`);
    }
    // The old lock file describes the old environment's readers; LMDB makes a fresh one.
    try {
      rmSync(join(dir, 'lock.mdb'), { force: true });
    } catch (error) {
      throw lockFileBusy(error, dir, process.platform);
    }
    replaceFile(copy, join(dir, 'data.mdb'));
    syncDir(dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const restored = Store.open(dir, { mapSize: options.mapSize });
  try {
    return { dir, counts: restored.counts() };
  } finally {
    await restored.close();
  }
}
