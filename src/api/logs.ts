/**
 * `/api/logs`: the two routes of Prefect 3.0.0. `POST /logs/` takes a batch of LogCreate (every
 * Prefect client sends its run logs so, batched up to PREFECT_LOGGING_TO_API_BATCH_SIZE bytes)
 * and answers 201 with the body `null`; `POST /logs/filter` pages them (limit and its texts as
 * the other filter routes, offset, a LogFilter, sort TIMESTAMP_ASC by default).
 */
import { Elysia } from 'elysia';
import { jsonBody } from '../schemas/openapi.ts';
import type { Config } from '../config.ts';
import { checkApiVersion } from '../http/api-version.ts';
import { readJsonBody } from '../http/body.ts';
import { readEmbeddedBody } from '../http/embedded.ts';
import { readModel } from '../http/model.ts';
import { jsonText } from '../http/respond.ts';
import type { IntakeCounters } from '../observe/metrics.ts';
import { bodyParams } from '../schemas/bodies.ts';
import { t } from '../schemas/common.ts';
import { LogCreate, ReadLogsBody, type LogFilter, type LogSort } from '../schemas/logs.ts';
import type { Store } from '../store/contract.ts';
import { logJson, type NewLog } from '../store/log-records.ts';
import { parseDateTime } from '../validation/datetime.ts';

const tags = ['Logs'];
const LogBatch = t.Array(LogCreate);
const readParams = bodyParams(ReadLogsBody);

const newLog = (log: LogCreate): NewLog => ({
  name: log.name,
  level: log.level,
  message: log.message,
  timestamp: parseDateTime(log.timestamp)!, // validated
  flow_run_id: log.flow_run_id ?? null,
  task_run_id: log.task_run_id ?? null,
});

export function logRoutes(store: Store, config: Config, counters: IntakeCounters) {
  const limit = { max: config.defaultLimit };
  return new Elysia({ prefix: '/logs' })
    .post(
      '/',
      async ({ request }) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        const logs = readModel<LogCreate[]>(body, LogBatch).map(newLog);
        if (logs.length > 0) await store.logs.append(logs);
        counters.logsReceived += logs.length;
        return jsonText(201, 'null');
      },
      { parse: 'none', detail: { tags, summary: 'Create Logs', description: 'Create new logs from the provided schema.', requestBody: jsonBody(LogCreate, true) } as any },
    )
    .post(
      '/filter',
      async ({ request }) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        const { values, limit: take } = readEmbeddedBody(body, readParams, limit);
        const sort = (values.sort as LogSort | undefined) ?? 'TIMESTAMP_ASC';
        const rows = await store.logs.find((values.logs as LogFilter | undefined) ?? null, sort, { offset: (values.offset as number | undefined) ?? 0, limit: take });
        return jsonText(200, `[${rows.map(logJson).join(',')}]`);
      },
      { parse: 'none', detail: { tags, summary: 'Read Logs', description: 'Query for logs.', requestBody: jsonBody(ReadLogsBody) } as any },
    );
}
