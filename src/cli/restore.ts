/**
 * `artifactd restore FILE --data-dir DIR`: puts a backup in place as DIR's store after opening
 * it and passing `check`. A non-empty DIR is replaced only with --force, and never while a process
 * (a server) has its store open: that is refused where it can be seen (in-use.ts: /proc/locks on
 * Linux, lsof on macOS; Windows refuses to remove the open lock file, backup.ts). Where it cannot
 * be told, a warning says so and the restore goes ahead.
 */
import { existsSync, statSync } from 'node:fs';
import { isNonEmptyDir, restoreStore } from '../store/lmdb/backup.ts';
import { checkAddressSpace } from '../store/lmdb/env.ts';
import { processUsingStore } from '../store/lmdb/in-use.ts';
import { UsageError, type Command } from './command.ts';
import { dataDir, dataDirOption, mapSize, mapSizeOption } from './data-dir.ts';
import { databaseUrlOption, refuseDatabase } from './store-options.ts';
import { reportingFailures } from './failure.ts';
import { checkInChild } from './self.ts';
import { print } from './print.ts';

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'Restore a backup FILE into a data dir, verified with check (stop any server on it first).',
  args: 'FILE',
  maxArgs: 1,
  options: {
    'data-dir': dataDirOption('where to restore'),
    'map-size': mapSizeOption,
    'database-url': databaseUrlOption,
    force: { type: 'boolean', description: 'replace the store in a non-empty DIR' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  run: (values, args) =>
    reportingFailures(async () => {
      const file = args[0];
      if (file === undefined) throw new UsageError('restore needs a FILE (see artifactd restore --help)');
      refuseDatabase(values, 'restore');
      const dir = dataDir(values);
      const map = mapSize(values);
      // Before the backup is checked in a child under the same limit, whose refusal would read as a bad backup.
      checkAddressSpace(map);
      if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory; --data-dir names the directory to restore into`);
      if (isNonEmptyDir(dir) && values.force !== true) throw new UsageError(`${dir} is not empty; pass --force to replace its store`);
      const holder = processUsingStore(dir);
      if (holder) {
        throw new UsageError(`the store in ${dir} is open in another process${holder > 0 ? ` (pid ${holder})` : ''}; stop the server before restoring`);
      }
      if (holder === undefined && process.platform !== 'win32') {
        console.error(`artifactd: warning: cannot tell on this system whether another process has the store in ${dir} open; make sure no server uses it`);
      }
      const result = await restoreStore(file, dir, (staging) => checkInChild(staging, map), { mapSize: map });
      const { artifacts, collections } = result.counts;
      if (values.json) await print(JSON.stringify({ dir, ok: true, counts: result.counts }));
      else await print(`Restored ${file} into ${dir}: ${artifacts} artifacts, ${collections} keys; check passed.`);
      return 0;
    }),
};
