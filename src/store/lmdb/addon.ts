/**
 * Why lmdb's native addon did not load, in one line a user can act on.
 *
 * The executable carries the addon inside itself (scripts/embed-lmdb-addon.ts); Bun writes it to
 * the temporary directory at start-up (`BUN_TMPDIR`, else `TMPDIR`; on Windows `TEMP`, where
 * `os.tmpdir()` looks) and loads it from there. A directory that is missing, not writable, or
 * on a file system mounted `noexec` therefore stops the executable from opening an LMDB store,
 * with a loader error that names a `/$bunfs/…` path or "failed to map segment". env.ts loads
 * lmdb when a store is first opened (lmdb-module.ts) and, when that fails, answers every open with
 * this message (a StoreOpenError: one `artifactd: …` line and exit 2) instead of a stack trace at
 * start-up; commands that open no LMDB store (`--help`, `--version`, a PostgreSQL server) still run.
 *
 * From the source (`bun src/main.ts`) the addon is loaded from node_modules, not the temporary
 * directory, so the message names the package instead.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { compiled } from '../../executable.ts';

export interface AddonContext {
  /** Whether this is a compiled executable (the addon is unpacked to the temporary directory). */
  compiled: boolean;
  platform: NodeJS.Platform;
  /** The environment: BUN_TMPDIR and TMPDIR name the directory. */
  env: Record<string, string | undefined>;
  /** os.tmpdir(), for when neither variable is set. */
  defaultTmpdir: string;
  /** What is wrong with `dir` for unpacking and loading a library, or null when nothing is seen. */
  inspect(dir: string): string | null;
}

/** What stops `dir` from holding an unpacked addon: missing, not a directory, not writable. */
export function inspectTmpdir(dir: string): string | null {
  try {
    if (!statSync(dir).isDirectory()) return 'is not a directory';
  } catch {
    return 'does not exist';
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return 'is not writable';
  }
  return null;
}

export function currentAddonContext(): AddonContext {
  return { compiled, platform: process.platform, env: process.env, defaultTmpdir: tmpdir(), inspect: inspectTmpdir };
}

/** The loader's own words, without the `/$bunfs/…` path of the embedded copy (meaningless to a user). */
function loaderReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/\S*\$bunfs\S*?:\s*/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The one line explaining an addon that did not load (after `artifactd: `). */
export function addonFailureMessage(error: unknown, context: AddonContext): string {
  const reason = loaderReason(error);
  // Not the temporary directory's fault: the addon (glibc builds of lmdb 3.5.6) needs glibc 2.34.
  const glibc = /version [`'"]?(GLIBC_[\d.]+)[`'"]? not found/.exec(reason);
  if (glibc) {
    return (
      `cannot load LMDB's native addon: it needs ${glibc[1].replace('GLIBC_', 'glibc ')} or later, and this system's C library is older (${reason}); ` +
      `run artifactd on a newer system (Debian 12, Ubuntu 22.04, RHEL 9 or later) or in its container image`
    );
  }
  if (!context.compiled) return `cannot load LMDB's native addon (the lmdb package): ${reason}; reinstall the dependencies (npm ci)`;
  const variable = context.env.BUN_TMPDIR ? 'BUN_TMPDIR' : context.env.TMPDIR ? 'TMPDIR' : null;
  const dir = (variable && context.env[variable]) || context.defaultTmpdir;
  const where = variable ? `${dir} (from ${variable})` : dir;
  const windows = context.platform === 'win32';
  const problem = context.inspect(dir) ?? (windows ? 'did not let it be loaded' : 'does not let it be loaded (mounted noexec?)');
  const example = windows ? 'set BUN_TMPDIR=%LOCALAPPDATA%\\artifactd' : 'BUN_TMPDIR=$HOME/.cache/artifactd';
  return (
    `cannot load LMDB's native addon: artifactd unpacks it into the temporary directory ${where}, which ${problem} (${reason}); ` +
    `point BUN_TMPDIR (or TMPDIR) at an existing, writable directory ${windows ? '' : 'that allows executables '}and run it again, e.g. ${example}`
  );
}
