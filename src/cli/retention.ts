/**
 * The server's retention schedule (`serve --retention 90d`): prunes at start, then every hour —
 * or every tenth of the retention period when that is shorter, so short periods stay close to
 * exact. Runs inside the server process through the store's durable writes (batches share commits
 * with requests); a run never overlaps the previous one; the timer never keeps the process alive.
 */
import { pruneArtifacts } from '../store/retention.ts';
import type { Store } from '../store/contract.ts';
import { formatMicros, nowMicros } from '../time.ts';
import type { Logger } from '../observe/log.ts';
import { artifactVersions } from './artifact-view.ts';

const HOUR_MS = 3_600_000;

export function retentionInterval(retentionMs: number): number {
  return Math.min(HOUR_MS, Math.max(1000, Math.floor(retentionMs / 10)));
}

export interface RetentionSchedule {
  /** Stops the timer and waits for a run in progress (call before closing the store). */
  stop(): Promise<void>;
}

/**
 * `log` is the server's logger, so the retention lines share its format (`--log-format json`
 * stays one JSON object per line) and level; tests pass their own.
 */
export function startRetention(store: Store, retentionMs: number, log: Pick<Logger, 'info' | 'error'>): RetentionSchedule {
  let running: Promise<void> | undefined;
  let first = true;
  const runOnce = () => {
    if (running) return;
    const cutoff = nowMicros() - retentionMs * 1000;
    running = pruneArtifacts(store, { cutoff })
      .then((result) => {
        if (first || result.deleted > 0) {
          const before = formatMicros(cutoff);
          log.info(`artifactd: retention pruned ${artifactVersions(result.deleted)} created before ${before}`, { deleted: result.deleted, cutoff: before });
        }
        first = false;
      })
      .catch((error) => log.error(`artifactd: retention run failed: ${(error as Error).message}`))
      .finally(() => {
        running = undefined;
      });
  };
  runOnce();
  const timer = setInterval(runOnce, retentionInterval(retentionMs));
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
