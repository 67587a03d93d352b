/**
 * The one line that explains an lmdb addon that did not load (src/store/lmdb/addon.ts), for each
 * cause and platform, with the loader errors Bun 1.4.5 gives (measured with dist/artifactd: a
 * missing TMPDIR, a noexec tmpfs). test/e2e/tmpdir.test.ts runs the executable itself.
 */
import { afterAll, expect, test } from 'bun:test';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addonFailureMessage, inspectTmpdir, type AddonContext } from '../../../src/store/lmdb/addon.ts';
import { tempDir } from '../../helpers.ts';

const dlopen = (message: string) => Object.assign(new Error(message), { code: 'ERR_DLOPEN_FAILED' });
/** Bun's error when the temporary directory is missing or unwritable: the addon's embedded path. */
const notUnpacked = dlopen('/$bunfs/root/node.napi.glibc-qp1e6vxr.node: cannot open shared object file: No such file or directory');
/** ...and when it is on a noexec mount. */
const noexec = dlopen('/tmp/noexec/.bun-0-d377c85be727dce0.node: failed to map segment from shared object');

const context = (overrides: Partial<AddonContext>): AddonContext => ({
  compiled: true,
  platform: 'linux',
  env: {},
  defaultTmpdir: '/tmp',
  inspect: () => null,
  ...overrides,
});

test('a missing TMPDIR: named, with where it came from, why, and what to do; the /$bunfs path left out', () => {
  const message = addonFailureMessage(notUnpacked, context({ env: { TMPDIR: '/gone' }, inspect: () => 'does not exist' }));
  expect(message).toBe(
    "cannot load LMDB's native addon: artifactd unpacks it into the temporary directory /gone (from TMPDIR), which does not exist " +
      '(cannot open shared object file: No such file or directory); point BUN_TMPDIR (or TMPDIR) at an existing, writable directory ' +
      'that allows executables and run it again, e.g. BUN_TMPDIR=$HOME/.cache/artifactd',
  );
  expect(message).not.toContain('$bunfs');
  expect(message).not.toContain('\n');
});

test('a noexec temporary directory: nothing wrong with it to see, so the mount is the suspect', () => {
  const message = addonFailureMessage(noexec, context({ env: { TMPDIR: '/tmp/noexec' } }));
  expect(message).toContain('the temporary directory /tmp/noexec (from TMPDIR), which does not let it be loaded (mounted noexec?)');
  expect(message).toContain('(/tmp/noexec/.bun-0-d377c85be727dce0.node: failed to map segment from shared object)');
});

test('BUN_TMPDIR wins over TMPDIR (as Bun reads them); neither set: the default, unattributed', () => {
  expect(addonFailureMessage(notUnpacked, context({ env: { BUN_TMPDIR: '/a', TMPDIR: '/b' } }))).toContain('directory /a (from BUN_TMPDIR)');
  expect(addonFailureMessage(notUnpacked, context({ env: { TMPDIR: '' } }))).toContain('directory /tmp, which');
});

test('Windows: no noexec, and a cmd.exe example', () => {
  const message = addonFailureMessage(notUnpacked, context({ platform: 'win32', defaultTmpdir: 'C:\\Users\\me\\AppData\\Local\\Temp' }));
  expect(message).toContain('directory C:\\Users\\me\\AppData\\Local\\Temp, which did not let it be loaded (');
  expect(message).toEndWith('at an existing, writable directory and run it again, e.g. set BUN_TMPDIR=%LOCALAPPDATA%\\artifactd');
  expect(message).not.toContain('noexec');
});

test('from the source the temporary directory plays no part: the package is named instead', () => {
  const message = addonFailureMessage(dlopen('/x/node_modules/@lmdb/lmdb-linux-x64/node.napi.glibc.node: invalid ELF header'), context({ compiled: false }));
  expect(message).toBe(
    "cannot load LMDB's native addon (the lmdb package): /x/node_modules/@lmdb/lmdb-linux-x64/node.napi.glibc.node: invalid ELF header; reinstall the dependencies (npm ci)",
  );
});

const root = tempDir('artifactd-addon-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('inspectTmpdir: missing, a file, fine; unwritable (when not root, who may write anywhere)', () => {
  expect(inspectTmpdir(join(root, 'missing'))).toBe('does not exist');
  writeFileSync(join(root, 'file'), '');
  expect(inspectTmpdir(join(root, 'file'))).toBe('is not a directory');
  expect(inspectTmpdir(root)).toBeNull();
  const readOnly = join(root, 'read-only');
  mkdirSync(readOnly);
  chmodSync(readOnly, 0o555);
  expect(inspectTmpdir(readOnly)).toBe(process.getuid?.() === 0 ? null : 'is not writable');
});

test('a glibc too old for the addon is said as such, whatever the temporary directory', () => {
  const old = dlopen("/tmp/.bun-1000-d377c85be727dce0.node: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by /tmp/.bun-1000-d377c85be727dce0.node)");
  for (const compiled of [true, false]) {
    const message = addonFailureMessage(old, context({ compiled, env: { TMPDIR: '/tmp' } }));
    expect(message).toStartWith("cannot load LMDB's native addon: it needs glibc 2.34 or later, and this system's C library is older (");
    expect(message).toEndWith('run artifactd on a newer system (Debian 12, Ubuntu 22.04, RHEL 9 or later) or in its container image');
    expect(message).not.toContain('TMPDIR');
  }
});
