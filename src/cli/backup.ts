/**
 * `artifactd backup FILE`: a consistent, compacted copy of the store in one file, taken while a
 * server keeps serving from the same data dir. An existing FILE is replaced only with --force.
 */
import { existsSync, statSync } from 'node:fs';
import { backupStore } from '../store/lmdb/backup.ts';
import { UsageError, type Command } from './command.ts';
import { reportingFailures } from './failure.ts';
import { dataDirOption, mapSizeOption, openLocalStore } from './data-dir.ts';
import { databaseUrlOption, refuseDatabase } from './store-options.ts';
import { print } from './print.ts';

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

export const backupCommand: Command = {
  name: 'backup',
  summary: 'Write a consistent, compacted copy of the store to FILE (safe while a server runs).',
  args: 'FILE',
  maxArgs: 1,
  options: {
    'data-dir': dataDirOption('the store to use'),
    'map-size': mapSizeOption,
    'database-url': databaseUrlOption,
    force: { type: 'boolean', description: 'replace FILE if it exists' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  run: (values, args) =>
    reportingFailures(async () => {
      const file = args[0];
      if (file === undefined) throw new UsageError('backup needs a FILE (see artifactd backup --help)');
      if (existsSync(file)) {
        if (statSync(file).isDirectory()) throw new UsageError(`${file} is a directory; give a file name`);
        if (values.force !== true) throw new UsageError(`${file} exists; pass --force to replace it`);
      }
      refuseDatabase(values, 'backup');
      const store = openLocalStore(values);
      try {
        const counts = await store.counts();
        const result = await backupStore(store, file);
        if (values.json) await print(JSON.stringify({ file: result.file, bytes: result.bytes, milliseconds: Math.round(result.milliseconds) }));
        else {
          await print(
            `Backed up the store (about ${counts.artifacts} artifacts, ${counts.collections} keys) to ${result.file}: ` +
              `${mib(result.bytes)} in ${(result.milliseconds / 1000).toFixed(1)} s.`,
          );
        }
        return 0;
      } finally {
        await store.close();
      }
    }),
};
