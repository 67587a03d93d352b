/**
 * `artifactd ls`: the latest version of each key, by key (`prefect artifact ls`); `--all` lists
 * every version, keyless artifacts included. `--json` prints the API's objects: ArtifactCollection
 * rows (with `latest_id`) by default, Artifact rows with `--all`.
 */
import { columns } from './artifact-view.ts';
import type { Command } from './command.ts';
import { reportingFailures } from './failure.ts';
import { JSON_OPTIONS, limitOption, wantsJson } from './options.ts';
import { openSource, SOURCE_OPTIONS } from './source.ts';
import { renderTable } from './table.ts';
import { print } from './print.ts';

/** Prefect's default for `prefect artifact ls`. */
const DEFAULT_LIMIT = 100;

export const lsCommand: Command = {
  name: 'ls',
  summary: 'List artifacts: the latest version of each key, or every version with --all.',
  options: {
    all: { type: 'boolean', short: 'a', description: 'every version of every artifact, not only the latest of each key' },
    limit: { type: 'string', value: 'N', description: `at most N rows (default ${DEFAULT_LIMIT})` },
    ...JSON_OPTIONS,
    ...SOURCE_OPTIONS,
  },
  run: (values) =>
    reportingFailures(async () => {
      const limit = limitOption(values.limit, DEFAULT_LIMIT);
      const json = wantsJson(values);
      const source = openSource(values);
      try {
        const listing = values.all ? await source.all(limit) : await source.latest(limit);
        if (json) await print(listing.json);
        else if (listing.rows.length === 0) await print('No artifacts.');
        else {
          const { id, key, type, updated, description } = columns;
          await print(renderTable(listing.rows, [id, key, type, updated, description]));
          // A note, not an error: console.error would print it in red on a terminal.
          if (listing.rows.length === limit) process.stderr.write(`(the first ${limit}; --limit N shows more)\n`);
        }
        return 0;
      } finally {
        await source.close();
      }
    }),
};
