/**
 * `artifactd check`: verifies a store's invariants (indexes, collections, counters, links) and
 * lists what is wrong. Safe to run while a server uses the same data dir: LMDB gives it a
 * consistent snapshot. Exit 0 when sound, 1 with findings.
 */
import type { Command } from './command.ts';
import { openCommandStore, storeOptions, storePlace } from './store-options.ts';
import { print } from './print.ts';

export const checkCommand: Command = {
  name: 'check',
  summary: 'Verify the store: every index entry and record agree, collections name their newest version, counters are exact.',
  options: {
    ...storeOptions('the store to check'),
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run(values) {
    const store = await openCommandStore(values);
    const dir = storePlace(values);
    try {
      const findings = await store.check();
      const counts = await store.counts();
      if (values.json) await print(JSON.stringify({ ok: findings.length === 0, findings, counts }));
      else if (findings.length === 0) {
        await print(
          `ok: ${counts.artifacts} artifacts, ${counts.collections} keys, ${counts.flows} flows, ${counts.flowRuns} flow runs, ` +
            `${counts.taskRuns} task runs, ${counts.deployments} deployments`,
        );
      } else {
        await print([`${findings.length} problem${findings.length === 1 ? '' : 's'} in ${dir}:`, ...findings.map((f) => `  ${f}`)].join('\n'));
      }
      return findings.length === 0 ? 0 : 1;
    } finally {
      await store.close();
    }
  },
};
