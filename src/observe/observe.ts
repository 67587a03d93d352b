/**
 * What happens once a request has its answer: its log line and its metrics. Built once per app;
 * null when neither is on, so the request path then does no timing at all.
 */
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

/** Records the answered request and hands the response on unchanged. */
export type Observe = (method: string, path: string, started: number, response: Response) => Response;

export function requestObserver(logger: Logger, metrics: Metrics | null): Observe | null {
  const logs = logger.logsRequests;
  if (!logs && metrics === null) return null;
  return (method, path, started, response) => {
    const ms = performance.now() - started;
    const status = response.status;
    if (metrics !== null) metrics.record(method, path, status, ms / 1000);
    if (logs) logger.request(method, path, status, ms);
    return response;
  };
}
