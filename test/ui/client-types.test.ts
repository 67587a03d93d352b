/**
 * The browser modules are type-checked as their own program (DOM library, no Bun types), which
 * `npm run typecheck` (the server program) cannot include: this runs that check.
 */
import { expect, test } from 'bun:test';
import { join } from 'node:path';

test('src/ui/client type-checks (tsc -p src/ui/client)', () => {
  const root = join(import.meta.dir, '..', '..');
  const result = Bun.spawnSync([join(root, 'node_modules', '.bin', 'tsc'), '-p', join(root, 'src', 'ui', 'client')], { cwd: root });
  const output = result.stdout.toString() + result.stderr.toString();
  expect(output).toBe('');
  expect(result.exitCode).toBe(0);
}, 60_000);
