/**
 * `/api/events`, the REST half (the websocket `/api/events/in` is events/events-in.ts):
 *
 * - `POST /events`: a list of Events, written as the websocket's are (one validator, one
 *   intake); 204 once they are durable.
 * - `POST /events/filter` (`{filter, limit ≤ 50}`) and `GET /events/filter/next?page-token=…`:
 *   Prefect 3.0.0's EventPage, `{"events": [ReceivedEvent…], "total": n, "next_page": url|null}`,
 *   newest first unless the filter says ASC. A token that is not one of ours is 403, as Prefect
 *   answers a token it cannot read.
 * - `POST /events/count-by/{countable}`: 501 (the UI's histograms; not served).
 */
import { Elysia } from 'elysia';
import type { Config } from '../config.ts';
import { decodePageToken, encodePageToken, MAX_PAGE_SIZE } from '../events/page-token.ts';
import { eventQuery } from '../events/query.ts';
import { receiveEvent, type ReceivedEvent } from '../events/receive.ts';
import type { EventIntake } from '../events/intake.ts';
import { checkApiVersion } from '../http/api-version.ts';
import { readJsonBody } from '../http/body.ts';
import { atMost } from '../http/constraints.ts';
import { readEmbeddedBody } from '../http/embedded.ts';
import { detail, validationFailed } from '../http/errors.ts';
import { jsonText, noContent } from '../http/respond.ts';
import { Event, EventFilter, ReadEventsBody } from '../schemas/events.ts';
import { jsonBody } from '../schemas/openapi.ts';
import { t } from '../schemas/common.ts';
import type { EventCursor, EventPage, EventQuery, Store } from '../store/contract.ts';
import { nowMicros } from '../time.ts';
import type { ValidationIssue } from '../validation/validate.ts';

const tags = ['Events'];

const FILTER_PARAMS = [
  { name: 'filter', schema: EventFilter },
  { name: 'limit', schema: t.Integer({ minimum: 0 }), refine: atMost(MAX_PAGE_SIZE) },
];

const missingBody = (): ValidationIssue => ({ type: 'missing', loc: ['body'], msg: 'Field required', input: null });

/** Prefect's `request.base_url` + `api/events/filter/next?page-token=…`. */
function nextPageUrl(request: Request, token: string): string {
  return `${new URL(request.url).origin}/api/events/filter/next?page-token=${token}`;
}

function pageJson(page: EventPage, total: number, next: string | null): string {
  return `{"events":[${page.events.join(',')}],"total":${total},"next_page":${next === null ? 'null' : JSON.stringify(next)}}`;
}

export function eventRoutes(store: Store, config: Config, intake: EventIntake) {
  /** One page from `after`, with the link to the next when more follow (never for an empty page size). */
  const page = async (request: Request, query: EventQuery, limit: number, after: EventCursor | null, total: number | null) => {
    const [found, counted] = await Promise.all([store.events.find(query, limit, after), total ?? store.events.count(query)]);
    const next = found.next !== null && limit > 0 ? nextPageUrl(request, encodePageToken({ query, after: found.next, total: counted, limit })) : null;
    return jsonText(200, pageJson(found, counted, next));
  };

  return new Elysia({ prefix: '/events' })
    .post(
      '',
      async ({ request }) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        if (!body.present || body.value === null) throw validationFailed([missingBody()], null);
        if (!Array.isArray(body.value)) {
          throw validationFailed([{ type: 'list_type', loc: ['body'], msg: 'Input should be a valid list', input: body.value }], body.value);
        }
        const received = nowMicros();
        const events: ReceivedEvent[] = [];
        const issues: ValidationIssue[] = [];
        body.value.forEach((item, i) => {
          const receipt = receiveEvent(item, ['body', i], received);
          if (receipt.ok) events.push(receipt.event);
          else issues.push(...receipt.issues);
        });
        if (issues.length > 0) throw validationFailed(issues, body.value);
        await intake.submit(events);
        return noContent();
      },
      { parse: 'none', detail: { tags, summary: 'Create Events', description: 'Record a batch of Events.', requestBody: jsonBody(Event, true) } as any },
    )
    .post(
      '/filter',
      async ({ request }) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        const { values } = readEmbeddedBody(body, FILTER_PARAMS);
        const limit = (values.limit as number | undefined) ?? MAX_PAGE_SIZE;
        return page(request, eventQuery(values.filter as EventFilter | undefined, nowMicros()), limit, null, null);
      },
      {
        parse: 'none',
        detail: {
          tags,
          summary: 'Read Events',
          description: 'Queries for Events matching the given filter criteria. Returns the first page of results, and the URL to request the next page (if there are more results).',
          requestBody: jsonBody(ReadEventsBody),
        } as any,
      },
    )
    .get(
      '/filter/next',
      async ({ request }) => {
        checkApiVersion(request);
        const text = new URL(request.url).searchParams.get('page-token');
        if (text === null) throw validationFailed([{ type: 'missing', loc: ['query', 'page-token'], msg: 'Field required', input: null }], null);
        const token = decodePageToken(text);
        if (token === null) throw detail(403, 'Forbidden');
        return page(request, token.query, token.limit, token.after, token.total);
      },
      { parse: 'none', detail: { tags, summary: 'Read Account Events Page', description: 'Returns the next page of Events for a previous query, and the URL to request the next page (if there are more results).' } },
    )
    .post(
      '/count-by/:countable',
      ({ request }) => {
        checkApiVersion(request);
        throw detail(501, 'Counting events (POST /api/events/count-by/{countable}) is not supported by this server.');
      },
      { parse: 'none', detail: { tags, summary: 'Count Account Events', description: 'Not served: answers 501.' } },
    );
}
