/**
 * What the store keeps for a log line, and the Log JSON a client reads (field order as Prefect
 * 3.0.0 emits it). Timestamps are µs since the epoch; `updated` equals `created` (logs are never
 * edited).
 */
import { formatMicros } from '../time.ts';

export interface LogRecord {
  id: string;
  created: number;
  name: string;
  level: number;
  message: string;
  /** When the client logged it (the filters' and sorts' time). */
  timestamp: number;
  flow_run_id: string | null;
  task_run_id: string | null;
}

/** A log line as `POST /api/logs/` hands it to the store (ids and `created` are the store's). */
export type NewLog = Omit<LogRecord, 'id' | 'created'>;

export function logJson(r: LogRecord): string {
  const created = JSON.stringify(formatMicros(r.created));
  return (
    `{"id":"${r.id}","created":${created},"updated":${created},"name":${JSON.stringify(r.name)},` +
    `"level":${r.level},"message":${JSON.stringify(r.message)},"timestamp":${JSON.stringify(formatMicros(r.timestamp))},` +
    `"flow_run_id":${r.flow_run_id === null ? 'null' : `"${r.flow_run_id}"`},"task_run_id":${r.task_run_id === null ? 'null' : `"${r.task_run_id}"`}}`
  );
}
