/**
 * `artifactd inspect KEY`: every version of a key, newest first (by `created`, the order that
 * decides which version is latest; Prefect's CLI sorts by `updated`, which lets an edited old
 * version jump ahead). Exit status 1 when the key has no artifact, as `prefect artifact inspect`.
 */
import { columns } from './artifact-view.ts';
import { UsageError, type Command } from './command.ts';
import { CommandFailure, reportingFailures } from './failure.ts';
import { JSON_OPTIONS, limitOption, wantsJson } from './options.ts';
import { openSource, SOURCE_OPTIONS } from './source.ts';
import { renderTable } from './table.ts';
import { print } from './print.ts';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Show every version of an artifact key, newest first.',
  args: 'KEY',
  maxArgs: 1,
  options: {
    limit: { type: 'string', value: 'N', description: 'at most N versions (default: all)' },
    ...JSON_OPTIONS,
    ...SOURCE_OPTIONS,
  },
  run: (values, args) =>
    reportingFailures(async () => {
      const key = args[0];
      if (key === undefined) throw new UsageError('inspect needs a KEY (see artifactd inspect --help)');
      const limit = limitOption(values.limit, undefined);
      const json = wantsJson(values);
      const source = openSource(values);
      try {
        const listing = await source.versions(key, limit);
        if (listing.rows.length === 0) throw new CommandFailure(`artifact ${JSON.stringify(key)} not found`);
        if (json) await print(listing.json);
        else {
          const { id, created, updated, type, description, data } = columns;
          const count = listing.rows.length;
          await print(`${key}: ${count}${limit !== undefined && count === limit ? '+' : ''} version${count === 1 ? '' : 's'}, newest first`);
          await print(renderTable(listing.rows, [id, created, updated, type, description, data]));
        }
        return 0;
      } finally {
        await source.close();
      }
    }),
};
