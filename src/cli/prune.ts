/**
 * `artifactd prune --older-than 90d`: deletes artifact versions created before now minus the
 * age, keeping each key's latest version unless `--include-latest`; `--dry-run` only reports.
 * Works on the data dir, also while a server runs on it (each batch is one short transaction).
 */
import { parseDuration } from '../duration.ts';
import type { ArtifactJson } from '../schemas/artifact-json.ts';
import { pruneArtifacts, type PruneResult } from '../store/retention.ts';
import { formatMicros, nowMicros } from '../time.ts';
import { artifactVersions, columns } from './artifact-view.ts';
import { UsageError, type Command } from './command.ts';
import { reportingFailures } from './failure.ts';
import { openCommandStore, storeOptions } from './store-options.ts';
import { renderTable } from './table.ts';
import { print } from './print.ts';

/** Rows a human dry run lists before summarizing the rest (`--json` lists every id). */
const DRY_RUN_ROWS = 20;

function summary(result: PruneResult, dryRun: boolean, seconds: number): string {
  const cutoff = formatMicros(result.cutoff);
  const kept = result.keptLatest > 0 ? `; kept ${result.keptLatest} latest version${result.keptLatest === 1 ? '' : 's'} (--include-latest deletes them too)` : '';
  return dryRun
    ? `Would delete ${artifactVersions(result.deleted)} created before ${cutoff}${kept}.`
    : `Deleted ${artifactVersions(result.deleted)} created before ${cutoff} in ${seconds.toFixed(1)} s${kept}.`;
}

export const pruneCommand: Command = {
  name: 'prune',
  summary: "Delete artifact versions older than an age (never a key's latest unless --include-latest).",
  options: {
    'older-than': { type: 'string', value: 'AGE', description: 'delete versions created more than AGE ago: 90d, 12h, 30m, 45s, 2w (required)' },
    'include-latest': { type: 'boolean', description: "also delete a key's latest version when it is older" },
    'dry-run': { type: 'boolean', description: 'only report what would be deleted' },
    json: { type: 'boolean', description: 'print the result as JSON' },
    ...storeOptions('the store to use'),
  },
  run: (values) =>
    reportingFailures(async () => {
      const age = values['older-than'] as string | undefined;
      if (age === undefined) throw new UsageError('prune needs --older-than AGE, e.g. --older-than 90d');
      const cutoff = nowMicros() - parseDuration(age) * 1000;
      const dryRun = values['dry-run'] === true;
      const store = await openCommandStore(values);
      try {
        const started = performance.now();
        const result = await pruneArtifacts(store, { cutoff, includeLatest: values['include-latest'] === true, dryRun });
        const seconds = (performance.now() - started) / 1000;
        if (values.json) {
          const out: Record<string, unknown> = { dry_run: dryRun, cutoff: formatMicros(cutoff), deleted: result.deleted, kept_latest: result.keptLatest };
          if (dryRun) out.ids = result.ids;
          await print(JSON.stringify(out));
          return 0;
        }
        if (dryRun && result.ids.length > 0) {
          const rows: ArtifactJson[] = [];
          for (const id of result.ids.slice(0, DRY_RUN_ROWS)) {
            const text = await store.artifacts.getJson(id);
            if (text !== undefined) rows.push(JSON.parse(text) as ArtifactJson);
          }
          const { id, key, type, created, description } = columns;
          await print(renderTable(rows, [id, key, type, created, description]));
          if (result.ids.length > DRY_RUN_ROWS) await print(`… and ${result.ids.length - DRY_RUN_ROWS} more (--json lists every id)`);
        }
        await print(summary(result, dryRun, seconds));
        return 0;
      } finally {
        await store.close();
      }
    }),
};
