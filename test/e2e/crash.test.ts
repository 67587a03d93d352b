/**
 * Crash safety: the harness of scripts/crash.ts (`npm run crash` runs many cycles against the
 * built executable) for a few cycles against the source — concurrent creates, PATCHes and
 * DELETEs on shared keys, SIGKILL at a random moment, restart, every acknowledged write checked.
 * A second test makes sure the harness is not vacuous: losing the store between the kill and the
 * restart must be reported as lost writes.
 */
import { afterEach, expect, test } from 'bun:test';
import { mkdirSync, rmSync } from 'node:fs';
import { crashCycles, killChildren, sourceCommand } from '../../scripts/crash.ts';

afterEach(() => killChildren());

const randomSeed = () => crypto.getRandomValues(new Uint32Array(1))[0];

test('every acknowledged write survives SIGKILL: 3 crash cycles against the source', async () => {
  const seed = randomSeed();
  const lines: string[] = [];
  const summary = await crashCycles({ cycles: 3, command: sourceCommand(), seed, log: (line) => lines.push(line), keepOnFailure: false });
  if (!summary.ok) console.error(`crash harness, seed ${seed}:\n${lines.join('\n')}`);
  expect(summary.violations).toEqual([]);
  expect(summary.cycles).toBe(3);
  expect(summary.createsAcknowledged).toBeGreaterThan(0);
  expect(summary.writesLost).toBe(0);
  expect(summary.writesFound).toBe(summary.writesAcknowledged);
  expect(summary.cycleReports.every((r) => r.checkOk)).toBe(true);
});

test('the harness reports lost writes when the store is lost between the kill and the restart', async () => {
  const summary = await crashCycles({
    cycles: 1,
    command: sourceCommand(),
    seed: randomSeed(),
    killAfterMs: [300, 300],
    log: () => {},
    keepOnFailure: false,
    beforeRestart: (dir) => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
    },
  });
  expect(summary.ok).toBe(false);
  expect(summary.createsAcknowledged).toBeGreaterThan(0);
  expect(summary.writesLost).toBeGreaterThan(0);
  expect(summary.violations.some((v) => v.includes('(lost write)'))).toBe(true);
  expect(summary.kept).toBe(false);
});
