/**
 * The server's retention schedule: artifact versions (`serve --retention 90d`), events
 * (`--event-retention`, 7 days by default, as Prefect) and log lines (`--log-retention`, off by
 * default, as Prefect keeps them). Prunes at start, then every hour — or every tenth of the
 * shortest retention period when that is shorter, so short periods stay close to exact. Runs
 * inside the server process through the store's durable writes, in bounded batches (each one
 * transaction, so requests and event batches commit in between); a run never overlaps the
 * previous one; the timer never keeps the process alive.
 */
import { pruneArtifacts } from '../store/retention.ts';
import type { Store } from '../store/contract.ts';
import { formatMicros, nowMicros } from '../time.ts';
import type { Logger } from '../observe/log.ts';
import { artifactVersions } from './artifact-view.ts';

const HOUR_MS = 3_600_000;
/** Events or log lines deleted per transaction. */
export const DELETE_BATCH = 1000;

export function retentionInterval(retentionMs: number): number {
  return Math.min(HOUR_MS, Math.max(1000, Math.floor(retentionMs / 10)));
}

/** How old each kind of record may grow, in ms; null keeps them forever. */
export interface RetentionPlan {
  /** Artifact versions by `created`; a key's latest version is always kept. */
  artifactsMs: number | null;
  /** Events by `occurred`. */
  eventsMs: number | null;
  /** Log lines by `timestamp`. */
  logsMs: number | null;
}

export interface RetentionSchedule {
  /** Stops the timer and waits for a run in progress (call before closing the store). */
  stop(): Promise<void>;
}

/**
 * Deletes everything `deleteBefore` finds before `cutoff`, `batch` at a time, until a call finds
 * nothing more; how many went. Records that arrive older than the cutoff meanwhile go too.
 */
export async function deleteOlder(deleteBefore: (cutoff: number, limit: number) => Promise<number>, cutoff: number, batch = DELETE_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteBefore(cutoff, batch);
    total += deleted;
    if (deleted === 0) return total;
  }
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * `log` is the server's logger, so the retention lines share its format (`--log-format json`
 * stays one JSON object per line) and level; tests pass their own. Each kind is reported on the
 * first run and whenever something went; a failure is logged and the next run tries again.
 */
export function startRetention(store: Store, plan: RetentionPlan, log: Pick<Logger, 'info' | 'error'>): RetentionSchedule {
  let running: Promise<void> | undefined;
  let first = true;
  const report = (deleted: number, text: string, cutoff: number) => {
    const before = formatMicros(cutoff);
    if (first || deleted > 0) log.info(`artifactd: retention ${text} before ${before}`, { deleted, cutoff: before });
  };
  const tasks: (() => Promise<void>)[] = [];
  if (plan.artifactsMs !== null) {
    const ms = plan.artifactsMs;
    tasks.push(async () => {
      const cutoff = nowMicros() - ms * 1000;
      const result = await pruneArtifacts(store, { cutoff });
      report(result.deleted, `pruned ${artifactVersions(result.deleted)} created`, cutoff);
    });
  }
  if (plan.eventsMs !== null) {
    const ms = plan.eventsMs;
    tasks.push(async () => {
      const cutoff = nowMicros() - ms * 1000;
      const deleted = await deleteOlder((c, n) => store.events.deleteBefore(c, n), cutoff);
      report(deleted, `deleted ${plural(deleted, 'event', 'events')} that occurred`, cutoff);
    });
  }
  if (plan.logsMs !== null) {
    const ms = plan.logsMs;
    tasks.push(async () => {
      const cutoff = nowMicros() - ms * 1000;
      const deleted = await deleteOlder((c, n) => store.logs.deleteBefore(c, n), cutoff);
      report(deleted, `deleted ${plural(deleted, 'log line', 'log lines')} logged`, cutoff);
    });
  }
  const runOnce = () => {
    if (running) return;
    running = (async () => {
      // One kind failing (say, the database for a moment) does not keep the others from running.
      for (const task of tasks) await task().catch((error) => log.error(`artifactd: retention run failed: ${(error as Error).message}`));
      first = false;
    })().finally(() => {
      running = undefined;
    });
  };
  const periods = [plan.artifactsMs, plan.eventsMs, plan.logsMs].filter((ms): ms is number => ms !== null);
  if (periods.length === 0) return { stop: async () => {} };
  runOnce();
  const timer = setInterval(runOnce, Math.min(...periods.map(retentionInterval)));
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
