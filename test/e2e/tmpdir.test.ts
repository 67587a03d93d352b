/**
 * The compiled executable unpacks lmdb's native addon into the temporary directory at start-up
 * (src/store/lmdb/addon.ts). A directory it cannot use is one `artifactd: …` line naming it and
 * exit 2, not a stack trace; commands that open no LMDB store still run; BUN_TMPDIR wins over
 * TMPDIR. Run against the executable (ARTIFACTD_BIN): from the source, the addon comes from
 * node_modules and the temporary directory plays no part, which the last test shows.
 * (A noexec mount needs root to make; measured by hand: addon.test.ts has its message.)
 */
import { afterAll, expect, test } from 'bun:test';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.ts';
import { cli } from './cli-run.ts';
import { run, startupUrl } from './process.ts';

const executable = Boolean(process.env.ARTIFACTD_BIN);
const root = tempDir('artifactd-tmpdir-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const missing = join(root, 'missing');
const aFile = join(root, 'a-file');
writeFileSync(aFile, '');

/** The environment with only this temporary directory (BUN_TMPDIR, which would win, removed). */
const withTmpdir = (dir: string, extra: Record<string, string> = {}) => ({ TMPDIR: dir, BUN_TMPDIR: '', ...extra });

test.skipIf(!executable)('a temporary directory that is missing or a file: one line naming it, exit 2, and no data dir made', async () => {
  for (const [dir, why] of [[missing, 'does not exist'], [aFile, 'is not a directory']]) {
    const data = join(root, `data-${why.replaceAll(' ', '-')}`);
    const result = await cli(['serve', '--port', '0', '--data-dir', data], withTmpdir(dir));
    expect(result.code).toBe(2);
    expect(result.err.trimEnd().split('\n')).toHaveLength(1);
    expect(result.err).toStartWith(`artifactd: cannot load LMDB's native addon: artifactd unpacks it into the temporary directory ${dir} (from TMPDIR), which ${why} (`);
    expect(result.err).toContain('point BUN_TMPDIR (or TMPDIR) at an existing, writable directory');
    expect(result.err).not.toContain('$bunfs');
    expect(existsSync(data)).toBe(false);
  }
});

test.skipIf(!executable || process.getuid?.() === 0)('a temporary directory it may not write to (not as root, who may): one line, exit 2', async () => {
  const readOnly = join(root, 'read-only');
  mkdirSync(readOnly);
  chmodSync(readOnly, 0o555);
  const result = await cli(['check', '--data-dir', join(root, 'data')], withTmpdir(readOnly));
  expect(result.code).toBe(2);
  expect(result.err).toStartWith(`artifactd: cannot load LMDB's native addon: artifactd unpacks it into the temporary directory ${readOnly} (from TMPDIR), which is not writable (`);
});

test.skipIf(!executable)('without a usable temporary directory, what needs no LMDB store still works: --version, --help, a store command\'s usage errors', async () => {
  const env = withTmpdir(missing);
  expect((await cli(['--version'], env)).code).toBe(0);
  const help = await cli(['--help'], env);
  expect([help.code, help.err]).toEqual([0, '']);
  expect(help.out).toContain('--data-dir');
  const ls = await cli(['ls', '--data-dir', join(root, 'nothing-here')], env);
  expect([ls.code, ls.err]).toEqual([2, `artifactd: no store in ${join(root, 'nothing-here')}\n`]);
});

test.skipIf(!executable)('BUN_TMPDIR wins over an unusable TMPDIR: the server starts, and the addon is unpacked there', async () => {
  const unpackHere = join(root, 'bun-tmpdir');
  mkdirSync(unpackHere);
  const proc = run(['serve', '--port', '0', '--data-dir', join(root, 'data-ok')], { TMPDIR: missing, BUN_TMPDIR: unpackHere });
  try {
    const base = await startupUrl(proc);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
    expect(readdirSync(unpackHere).some((name) => name.endsWith('.node'))).toBe(true);
  } finally {
    proc.kill('SIGTERM');
    await proc.exited;
  }
});

test.skipIf(executable)('from the source, the temporary directory plays no part in loading lmdb: the server starts', async () => {
  const proc = run(['serve', '--port', '0', '--data-dir', join(root, 'data-source')], withTmpdir(missing));
  try {
    const base = await startupUrl(proc);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  } finally {
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  }
});
