/**
 * `artifactd check`: verifies a store's invariants (indexes, collections, counters, links) and
 * lists what is wrong. Safe to run while a server uses the same data dir: LMDB gives it a
 * consistent snapshot. Exit 0 when sound, 1 with findings.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../config.ts';
import { Store } from '../store/store.ts';
import { UsageError, type Command } from './command.ts';

export const checkCommand: Command = {
  name: 'check',
  summary: 'Verify the store: every index entry and record agree, collections name their newest version, counters are exact.',
  options: {
    'data-dir': { type: 'string', value: 'DIR', description: `the store to check (env ARTIFACTD_DATA_DIR, default ${DEFAULTS.dataDir})` },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run(values) {
    const dir = (values['data-dir'] as string | undefined) ?? process.env.ARTIFACTD_DATA_DIR ?? DEFAULTS.dataDir;
    if (!existsSync(join(dir, 'data.mdb'))) throw new UsageError(`no store in ${dir}`);
    const store = Store.open(dir);
    try {
      const findings = store.check();
      const counts = store.counts();
      if (values.json) console.log(JSON.stringify({ ok: findings.length === 0, findings, counts }));
      else if (findings.length === 0) {
        console.log(
          `ok: ${counts.artifacts} artifacts, ${counts.collections} keys, ${counts.flows} flows, ${counts.flowRuns} flow runs, ` +
            `${counts.taskRuns} task runs, ${counts.deployments} deployments`,
        );
      } else {
        console.log(`${findings.length} problem${findings.length === 1 ? '' : 's'} in ${dir}:`);
        for (const finding of findings) console.log(`  ${finding}`);
      }
      return findings.length === 0 ? 0 : 1;
    } finally {
      await store.close();
    }
  },
};
