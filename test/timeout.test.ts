/**
 * Proves that the per-test timeout of package.json's "test" script (`bun test --timeout 60000`)
 * is in force. Bun's own default is 5 s, and this Bun silently ignores both bunfig.toml's
 * `[test] timeout` and (beyond the first file) a preloaded `setDefaultTimeout`: were the flag
 * dropped, this test would time out at 5 s and fail. The flag is process-wide, so one file
 * proves it for all.
 */
import { expect, test } from 'bun:test';

test("a test may run past Bun's 5 s default: npm test's --timeout applies", async () => {
  const started = performance.now();
  await Bun.sleep(5_200);
  expect(performance.now() - started).toBeGreaterThan(5_000);
});
