/** `/api/flow_runs`: create, read, filter, count, set state, update, delete. */
import { Elysia } from 'elysia';
import type { Config } from '../config.ts';
import { ApiError, detail } from '../http/errors.ts';
import { jsonText, noContent } from '../http/respond.ts';
import { CountFlowRunsBody, ReadFlowRunsBody } from '../schemas/bodies.ts';
import { FlowRunCreate, FlowRunUpdate, SetState, type StateCreate } from '../schemas/companions.ts';
import { flowRunJson, stateJson, type FlowRunRecord } from '../store/companion-records.ts';
import type { Store } from '../store/contract.ts';
import { queryRoutes } from './companion-queries.ts';
import { createHandler, deleteHandler, readHandler, readIdAndModel } from './handlers.ts';

const tags = ['Flow Runs'];
const notFound = () => detail(404, 'Flow run not found');
const render = (run: FlowRunRecord) => flowRunJson(run);

export function flowRunRoutes(store: Store, config: Config) {
  return new Elysia({ prefix: '/flow_runs' })
    .post('/', createHandler(config, FlowRunCreate, (input: FlowRunCreate) => store.flowRuns.create(input), render), {
      parse: 'none',
      detail: { tags, summary: 'Create Flow Run' },
    })
    .get('/:id', readHandler((id) => store.flowRuns.get(id), notFound, render), {
      parse: 'none',
      detail: { tags, summary: 'Read Flow Run' },
    })
    .use(
      queryRoutes(config, {
        prefix: '',
        tag: 'Flow Runs',
        filterBody: ReadFlowRunsBody,
        countBody: CountFlowRunsBody,
        defaultSort: 'ID_DESC',
        find: (filters, sort, page) => store.flowRuns.find(filters, sort, page),
        count: (filters) => store.flowRuns.count(filters),
        render,
      }),
    )
    .post(
      '/:id/set_state',
      async (ctx) => {
        const { id, input } = await readIdAndModel<{ state: StateCreate; force?: boolean }>(ctx, config, SetState);
        // No orchestration rules run here: every proposed state is accepted, as with `force`.
        const run = await store.flowRuns.setState(id, input.state);
        if (!run) throw new ApiError(404, { exception_message: `Flow run with id ${id} not found` });
        return jsonText(201, `{"state":${stateJson(run.state)},"status":"ACCEPT","details":{"type":"accept_details"}}`);
      },
      { parse: 'none', detail: { tags, summary: 'Set Flow Run State' } },
    )
    .patch(
      '/:id',
      async (ctx) => {
        const { id, input } = await readIdAndModel<FlowRunUpdate>(ctx, config, FlowRunUpdate);
        if (!(await store.flowRuns.update(id, input))) throw notFound();
        return noContent();
      },
      { parse: 'none', detail: { tags, summary: 'Update Flow Run' } },
    )
    .delete('/:id', deleteHandler((id) => store.flowRuns.delete(id), notFound), {
      parse: 'none',
      detail: { tags, summary: 'Delete Flow Run' },
    });
}
