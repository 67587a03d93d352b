/**
 * `artifactd prune --older-than 90d`: deletes artifact versions created before now minus the
 * age, keeping each key's latest version unless `--include-latest`; `--dry-run` only reports.
 * `--events` and `--logs` prune events (by when they occurred) and log lines (by when they were
 * logged) instead — what the server's `--event-retention` and `--log-retention` do hourly — and
 * `--artifacts` adds the versions back. Works on the data dir, also while a server runs on it
 * (each batch is one short transaction).
 */
import { parseDuration } from '../duration.ts';
import type { ArtifactJson } from '../schemas/artifact-json.ts';
import { pruneArtifacts, type PruneResult } from '../store/retention.ts';
import type { Store } from '../store/contract.ts';
import { formatMicros, nowMicros } from '../time.ts';
import { deleteOlder } from './retention.ts';
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

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** Events that occurred before `cutoff`: counted (dry run) or deleted. */
async function pruneEvents(store: Store, cutoff: number, dryRun: boolean): Promise<number> {
  if (dryRun) return store.events.count({ since: 0, until: cutoff - 1, order: 'ASC' });
  return deleteOlder((c, n) => store.events.deleteBefore(c, n), cutoff);
}

/** Log lines logged before `cutoff`: counted (dry run, a page at a time) or deleted. */
async function pruneLogs(store: Store, cutoff: number, dryRun: boolean): Promise<number> {
  if (!dryRun) return deleteOlder((c, n) => store.logs.deleteBefore(c, n), cutoff);
  const filter = { timestamp: { before_: formatMicros(cutoff - 1) } };
  let counted = 0;
  for (;;) {
    const page = await store.logs.find(filter, 'TIMESTAMP_ASC', { offset: counted, limit: 1000 });
    counted += page.length;
    if (page.length < 1000) return counted;
  }
}

export const pruneCommand: Command = {
  name: 'prune',
  summary: "Delete artifact versions older than an age (never a key's latest unless --include-latest); with --events or --logs, events or log lines.",
  options: {
    'older-than': { type: 'string', value: 'AGE', description: 'delete versions created more than AGE ago: 90d, 12h, 30m, 45s, 2w (required)' },
    'include-latest': { type: 'boolean', description: "also delete a key's latest version when it is older" },
    events: { type: 'boolean', description: 'delete events that occurred more than AGE ago (instead of artifact versions, unless --artifacts)' },
    logs: { type: 'boolean', description: 'delete log lines logged more than AGE ago (instead of artifact versions, unless --artifacts)' },
    artifacts: { type: 'boolean', description: 'with --events or --logs: prune artifact versions too' },
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
      const events = values.events === true;
      const logs = values.logs === true;
      const artifacts = values.artifacts === true || (!events && !logs);
      try {
        const started = performance.now();
        const result = artifacts ? await pruneArtifacts(store, { cutoff, includeLatest: values['include-latest'] === true, dryRun }) : null;
        const eventCount = events ? await pruneEvents(store, cutoff, dryRun) : null;
        const logCount = logs ? await pruneLogs(store, cutoff, dryRun) : null;
        const seconds = (performance.now() - started) / 1000;
        if (values.json) {
          const out: Record<string, unknown> = { dry_run: dryRun, cutoff: formatMicros(cutoff) };
          if (result !== null) {
            out.deleted = result.deleted;
            out.kept_latest = result.keptLatest;
            if (dryRun) out.ids = result.ids;
          }
          if (eventCount !== null) out.events = eventCount;
          if (logCount !== null) out.logs = logCount;
          await print(JSON.stringify(out));
          return 0;
        }
        if (result !== null && dryRun && result.ids.length > 0) {
          const rows: ArtifactJson[] = [];
          for (const id of result.ids.slice(0, DRY_RUN_ROWS)) {
            const text = await store.artifacts.getJson(id);
            if (text !== undefined) rows.push(JSON.parse(text) as ArtifactJson);
          }
          const { id, key, type, created, description } = columns;
          await print(renderTable(rows, [id, key, type, created, description]));
          if (result.ids.length > DRY_RUN_ROWS) await print(`… and ${result.ids.length - DRY_RUN_ROWS} more (--json lists every id)`);
        }
        if (result !== null) await print(summary(result, dryRun, seconds));
        const before = formatMicros(cutoff);
        const verb = dryRun ? 'Would delete' : 'Deleted';
        if (eventCount !== null) await print(`${verb} ${plural(eventCount, 'event', 'events')} that occurred before ${before}.`);
        if (logCount !== null) await print(`${verb} ${plural(logCount, 'log line', 'log lines')} logged before ${before}.`);
        return 0;
      } finally {
        await store.close();
      }
    }),
};
