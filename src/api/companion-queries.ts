/**
 * The `/filter` and `/count` routes every companion resource has, built one way: read the
 * embedded body (limit first), refuse the work-pool filters this server cannot evaluate, run
 * the query, render the rows.
 */
import type { TObject } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import type { Config } from '../config.ts';
import { checkApiVersion } from '../http/api-version.ts';
import { readJsonBody } from '../http/body.ts';
import { readEmbeddedBody } from '../http/embedded.ts';
import { detail } from '../http/errors.ts';
import { jsonText } from '../http/respond.ts';
import { bodyParams } from '../schemas/bodies.ts';
import type { MaybePromise, Page, RunFilters } from '../store/contract.ts';

const WORK_POOL_KEYS = ['work_pools', 'work_pool_queues'];

function refuseWorkPoolFilters(values: Record<string, unknown>): void {
  const used = WORK_POOL_KEYS.filter((name) => values[name] !== undefined);
  if (used.length > 0) {
    throw detail(501, `Filtering by ${used.join(' and ')} is not supported: this server does not store work pools.`);
  }
}

export interface QueryRoutes<T> {
  prefix: string;
  tag: string;
  filterBody: TObject;
  countBody: TObject;
  defaultSort: string;
  find(filters: RunFilters, sort: string, page: Page): MaybePromise<T[]>;
  count(filters: RunFilters): MaybePromise<number>;
  render(row: T): string;
}

export function queryRoutes<T>(config: Config, q: QueryRoutes<T>) {
  const limit = { max: config.defaultLimit };
  const ref = (schema: TObject) => ({ content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema.$id}` } } } });
  return new Elysia({ prefix: q.prefix })
    .post(
      '/filter',
      async ({ request }) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        const { values, limit: take } = readEmbeddedBody(body, bodyParams(q.filterBody), limit);
        refuseWorkPoolFilters(values);
        const sort = (values.sort as string | undefined) ?? q.defaultSort;
        const rows = await q.find(values as RunFilters, sort, { offset: (values.offset as number) ?? 0, limit: take });
        return jsonText(200, `[${rows.map(q.render).join(',')}]`);
      },
      { parse: 'none', detail: { tags: [q.tag], summary: `Read ${q.tag}`, requestBody: ref(q.filterBody) } as any },
    )
    .post(
      '/count',
      async ({ request }) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        const { values } = readEmbeddedBody(body, bodyParams(q.countBody));
        refuseWorkPoolFilters(values);
        return jsonText(200, String(await q.count(values as RunFilters)));
      },
      { parse: 'none', detail: { tags: [q.tag], summary: `Count ${q.tag}`, requestBody: ref(q.countBody) } as any },
    );
}
