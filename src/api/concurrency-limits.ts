/**
 * Concurrency limits, v1 (`/api/concurrency_limits`, task tags) and v2
 * (`/api/v2/concurrency_limits`, global limits and leases), answered as a Prefect server with no
 * limits configured answers them. This server stores no limits, so every slot is free:
 *
 * - v1 `increment` / `decrement` (3.0 and 3.1 clients, for a tagged task): 200 `[]`.
 * - v2 `increment` / `decrement` (the `concurrency()` context manager): 200 `[]`.
 * - v2 `increment-with-lease` (3.8 clients, for a tagged task): 200 `{"lease_id": <new uuid>,
 *   "limits": []}`; `decrement-with-lease`: 204; `leases/{id}/renew`: 204. A lease holds no
 *   slot here, so nothing is kept: any lease renews (Prefect answers 410 for one it does not know,
 *   which only an expired lease on a real limit would be), and no instance of a scaled-out server
 *   needs to know another's leases.
 *
 * Bodies are validated as Prefect's routes validate them (422 in its shape). Managing limits —
 * create, read, filter, update, delete, reset — answers 501: there is nothing to manage.
 */
import { Elysia } from 'elysia';
import type { Config } from '../config.ts';
import { checkApiVersion } from '../http/api-version.ts';
import { readJsonBody } from '../http/body.ts';
import { all, atLeast, atMost, greaterThan, minItems } from '../http/constraints.ts';
import { readEmbeddedBody, type EmbeddedParam } from '../http/embedded.ts';
import { detail } from '../http/errors.ts';
import { requirePathId } from '../http/model.ts';
import { jsonText, noContent } from '../http/respond.ts';
import { Nullable, StringEnum, t, Uuid } from '../schemas/common.ts';
import { newId } from '../store/ids.ts';

const V1_TAGS = ['Concurrency Limits'];
const V2_TAGS = ['Concurrency Limits V2'];

const names = (min = 0): EmbeddedParam => ({ name: 'names', schema: t.Array(t.String()), required: true, ...(min > 0 ? { refine: minItems(min) } : {}) });
const slots: EmbeddedParam = { name: 'slots', schema: t.Integer(), required: true, refine: greaterThan(0) };
const mode: EmbeddedParam = { name: 'mode', schema: StringEnum(['concurrency', 'rate_limit'] as const) };
const createIfMissing: EmbeddedParam = { name: 'create_if_missing', schema: Nullable(t.Boolean()) };
const occupancySeconds: EmbeddedParam = { name: 'occupancy_seconds', schema: Nullable(t.Number()), refine: greaterThan(0) };
/** 60 s to a day, 300 by default. */
const leaseDuration: EmbeddedParam = { name: 'lease_duration', schema: t.Number(), refine: all(atLeast(60), atMost(86_400)) };
const LeaseHolder = t.Object(
  { type: StringEnum(['flow_run', 'task_run', 'deployment'] as const), id: Uuid() },
  { title: 'ConcurrencyLeaseHolder', additionalProperties: false },
);

const V1_SLOTS = [names(), { name: 'task_run_id', schema: Uuid(), required: true }];
const V2_INCREMENT = [slots, names(1), mode, createIfMissing];
const V2_INCREMENT_WITH_LEASE = [slots, names(1), mode, leaseDuration, { name: 'holder', schema: Nullable(LeaseHolder) }];
const V2_DECREMENT = [slots, names(1), occupancySeconds, createIfMissing];
const LEASE_ID = [{ name: 'lease_id', schema: Uuid(), required: true }];
const RENEW = [leaseDuration];

type Ctx = { request: Request; params: Record<string, string> };

/** A route that validates its embedded body and answers a fixed reply. */
function validated(config: Config, params: EmbeddedParam[], reply: (ctx: Ctx) => Response) {
  return async (ctx: Ctx) => {
    const body = await readJsonBody(ctx.request, config);
    checkApiVersion(ctx.request);
    readEmbeddedBody(body, params);
    return reply(ctx);
  };
}

/** Limit management: nothing to manage on a server that keeps no limits. */
const notServed = (what: string) => ({ request }: Ctx) => {
  checkApiVersion(request);
  throw detail(501, `${what} is not supported by this server: it keeps no concurrency limits, so every slot is free.`);
};

const emptyList = () => jsonText(200, '[]');

export function concurrencyLimitRoutes(config: Config) {
  const v1 = (summary: string) => ({ parse: 'none' as const, detail: { tags: V1_TAGS, summary } });
  const v2 = (summary: string) => ({ parse: 'none' as const, detail: { tags: V2_TAGS, summary } });
  const v1Routes = new Elysia({ prefix: '/concurrency_limits' })
    .post('/', notServed('Creating a concurrency limit'), v1('Create Concurrency Limit'))
    .get('/:id', notServed('Reading a concurrency limit'), v1('Read Concurrency Limit'))
    .get('/tag/:tag', notServed('Reading a concurrency limit'), v1('Read Concurrency Limit By Tag'))
    .post('/filter', notServed('Listing concurrency limits'), v1('Read Concurrency Limits'))
    .post('/tag/:tag/reset', notServed('Resetting a concurrency limit'), v1('Reset Concurrency Limit By Tag'))
    .delete('/:id', notServed('Deleting a concurrency limit'), v1('Delete Concurrency Limit'))
    .delete('/tag/:tag', notServed('Deleting a concurrency limit'), v1('Delete Concurrency Limit By Tag'))
    .post('/increment', validated(config, V1_SLOTS, emptyList), v1('Increment Concurrency Limits V1'))
    .post('/decrement', validated(config, V1_SLOTS, emptyList), v1('Decrement Concurrency Limits V1'));
  const v2Routes = new Elysia({ prefix: '/v2/concurrency_limits' })
    .post('/', notServed('Creating a global concurrency limit'), v2('Create Concurrency Limit V2'))
    .get('/:id', notServed('Reading a global concurrency limit'), v2('Read Concurrency Limit V2'))
    .post('/filter', notServed('Listing global concurrency limits'), v2('Read All Concurrency Limits V2'))
    .patch('/:id', notServed('Updating a global concurrency limit'), v2('Update Concurrency Limit V2'))
    .delete('/:id', notServed('Deleting a global concurrency limit'), v2('Delete Concurrency Limit V2'))
    .post('/increment', validated(config, V2_INCREMENT, emptyList), v2('Bulk Increment Active Slots'))
    .post(
      '/increment-with-lease',
      validated(config, V2_INCREMENT_WITH_LEASE, () => jsonText(200, `{"lease_id":"${newId()}","limits":[]}`)),
      v2('Bulk Increment Active Slots With Lease'),
    )
    .post('/decrement', validated(config, V2_DECREMENT, emptyList), v2('Bulk Decrement Active Slots'))
    .post('/decrement-with-lease', validated(config, LEASE_ID, noContent), v2('Bulk Decrement Active Slots With Lease'))
    .post(
      '/leases/:id/renew',
      async ({ request, params }: Ctx) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        requirePathId(params.id, 'lease_id');
        readEmbeddedBody(body, RENEW);
        return noContent();
      },
      v2('Renew Concurrency Lease'),
    );
  return new Elysia().use(v1Routes).use(v2Routes);
}
