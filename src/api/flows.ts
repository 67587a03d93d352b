/** `/api/flows`: create-or-fetch by name, read by id or name, filter, count, update tags, delete. */
import { Elysia } from 'elysia';
import { jsonBody } from '../schemas/openapi.ts';
import type { Config } from '../config.ts';
import { checkApiVersion } from '../http/api-version.ts';
import { detail } from '../http/errors.ts';
import { jsonText, noContent } from '../http/respond.ts';
import { CountFlowsBody, ReadFlowsBody } from '../schemas/bodies.ts';
import { FlowCreate, FlowUpdate } from '../schemas/companions.ts';
import { flowJson } from '../store/companion-records.ts';
import type { Store } from '../store/contract.ts';
import { queryRoutes } from './companion-queries.ts';
import { createHandler, deleteHandler, readHandler, readIdAndModel } from './handlers.ts';

const tags = ['Flows'];
const notFound = () => detail(404, 'Flow not found');

export function flowRoutes(store: Store, config: Config) {
  return new Elysia({ prefix: '/flows' })
    .post('/', createHandler(config, FlowCreate, (input: FlowCreate) => store.flows.create(input), flowJson), {
      parse: 'none',
      detail: { tags, summary: 'Create Flow', requestBody: jsonBody(FlowCreate) } as any,
    })
    .get('/:id', readHandler((id) => store.flows.get(id), notFound, flowJson), { parse: 'none', detail: { tags, summary: 'Read Flow' } })
    .get(
      '/name/:name',
      async ({ request, params }) => {
        checkApiVersion(request);
        const flow = await store.flows.byName(params.name);
        if (!flow) throw notFound();
        return jsonText(200, flowJson(flow));
      },
      { parse: 'none', detail: { tags, summary: 'Read Flow By Name' } },
    )
    .use(
      queryRoutes(config, {
        prefix: '',
        tag: 'Flows',
        filterBody: ReadFlowsBody,
        countBody: CountFlowsBody,
        defaultSort: 'NAME_ASC',
        find: (filters, sort, page) => store.flows.find(filters, sort, page),
        count: (filters) => store.flows.count(filters),
        render: flowJson,
      }),
    )
    .patch(
      '/:id',
      async (ctx) => {
        const { id, input } = await readIdAndModel<{ tags?: string[] }>(ctx, config, FlowUpdate);
        if (!(await store.flows.update(id, input.tags))) throw notFound();
        return noContent();
      },
      { parse: 'none', detail: { tags, summary: 'Update Flow', requestBody: jsonBody(FlowUpdate) } as any },
    )
    .delete('/:id', deleteHandler((id) => store.flows.delete(id), notFound), { parse: 'none', detail: { tags, summary: 'Delete Flow' } });
}
