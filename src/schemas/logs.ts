/**
 * Logs as Prefect 3.0.0 defines them: what `POST /api/logs/` takes (a list of LogCreate), and
 * what `POST /api/logs/filter` takes (LogFilter, LogSort, limit, offset).
 */
import type { Static } from '@sinclair/typebox';
import { DateTime, FilterObject, Nullable, Opt, OperatorField, StringEnum, Sub, t, Uuid, UuidList } from './common.ts';

export const LogCreate = t.Object(
  {
    name: t.String({ title: 'Name', description: 'The logger name.' }),
    level: t.Integer({ title: 'Level', description: 'The log level (Python logging: 10 DEBUG … 50 CRITICAL).' }),
    message: t.String({ title: 'Message' }),
    timestamp: DateTime({ title: 'Timestamp', description: 'When the record was logged.' }),
    flow_run_id: t.Optional(Nullable(Uuid())),
    task_run_id: t.Optional(Nullable(Uuid())),
    // Newer clients (3.1+) may send a worker's id; accepted and not stored.
    worker_id: t.Optional(Nullable(Uuid())),
  },
  { $id: 'LogCreate', title: 'LogCreate', additionalProperties: false, description: 'Data used by the Prefect REST API to create a log.' },
);

export const LogFilterLevel = FilterObject(
  'LogFilterLevel',
  { ge_: Opt(t.Integer()), le_: Opt(t.Integer()) },
  'Filter by `Log.level`; both bounds are inclusive.',
);
export const LogFilterTimestamp = FilterObject(
  'LogFilterTimestamp',
  { before_: Opt(DateTime()), after_: Opt(DateTime()) },
  'Filter by `Log.timestamp`; both bounds are inclusive.',
);
export const LogFilterFlowRunId = FilterObject('LogFilterFlowRunId', { any_: Opt(UuidList()) }, 'Filter by `Log.flow_run_id`.');
export const LogFilterTaskRunId = FilterObject(
  'LogFilterTaskRunId',
  { any_: Opt(UuidList()), is_null_: Opt(t.Boolean()) },
  'Filter by `Log.task_run_id`; `is_null_` true keeps the logs without a task run.',
);
export const LogFilter = FilterObject(
  'LogFilter',
  {
    operator: OperatorField(),
    level: Sub(LogFilterLevel),
    timestamp: Sub(LogFilterTimestamp),
    flow_run_id: Sub(LogFilterFlowRunId),
    task_run_id: Sub(LogFilterTaskRunId),
  },
  'Filter logs. Only logs matching all criteria will be returned.',
);

export const LogSort = StringEnum(['TIMESTAMP_ASC', 'TIMESTAMP_DESC'] as const, {
  $id: 'LogSort',
  title: 'LogSort',
  description: 'Defines log sorting options.',
});

export const ReadLogsBody = t.Object(
  {
    limit: t.Optional(t.Integer({ title: 'Limit', description: "Defaults to the server's default limit (200), which is also the maximum." })),
    offset: t.Optional(t.Integer({ minimum: 0, title: 'Offset', default: 0 })),
    logs: t.Optional(Nullable(LogFilter)),
    sort: t.Optional({ ...LogSort, default: 'TIMESTAMP_ASC' }),
  },
  { $id: 'Body_read_logs_logs_filter_post', title: 'Body_read_logs_logs_filter_post' },
);

export type LogCreate = Static<typeof LogCreate>;
export type LogFilter = Static<typeof LogFilter>;
export type LogSort = Static<typeof LogSort>;
