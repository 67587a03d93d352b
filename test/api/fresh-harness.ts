/**
 * A harness per test: `const h = freshHarness()` at the top of a file opens a new app and store
 * before each test and closes it (checking the store's invariants) after each, as the files used
 * to do with their own `let h` and beforeEach/afterEach. The returned object always stands for the
 * current test's harness.
 */
import { afterEach, beforeEach } from 'bun:test';
import type { Config } from '../../src/config.ts';
import { harness, type Harness } from '../helpers.ts';

export function freshHarness(overrides: Partial<Config> = {}): Harness {
  let current: Harness;
  beforeEach(() => {
    current = harness(overrides);
  });
  afterEach(async () => {
    await current.close();
  });
  return {
    get app() {
      return current.app;
    },
    get store() {
      return current.store;
    },
    get dir() {
      return current.dir;
    },
    call: (...args) => current.call(...args),
    create: (artifact) => current.create(artifact),
    close: () => current.close(),
  };
}
