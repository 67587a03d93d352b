/**
 * A harness per test: `const h = freshHarness({}, backend)` at the top of a suite opens a new app
 * and store over `backend` before each test and closes it (checking the store's invariants) after
 * each, as the files used to do with their own `let h` and beforeEach/afterEach. The returned
 * object always stands for the current test's harness.
 */
import { afterEach, beforeEach } from 'bun:test';
import type { Config } from '../../src/config.ts';
import { harness, type Backend, type Harness } from '../helpers.ts';

export function freshHarness(overrides: Partial<Config> = {}, backend: Backend = 'lmdb'): Harness {
  let current: Harness | undefined;
  const now = () => {
    if (current === undefined) throw new Error('freshHarness: no harness is open (its beforeEach failed, or this runs outside a test)');
    return current;
  };
  beforeEach(async () => {
    current = await harness(overrides, backend);
  });
  afterEach(async () => {
    const h = current;
    current = undefined;
    await h?.close();
  });
  return {
    backend,
    get app() {
      return now().app;
    },
    get store() {
      return now().store;
    },
    get dir() {
      return now().dir;
    },
    call: (...args) => now().call(...args),
    create: (artifact) => now().create(artifact),
    close: () => now().close(),
    discard: () => now().discard(),
  };
}
