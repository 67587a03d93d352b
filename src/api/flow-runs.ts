/** `/api/flow_runs`: create, read, filter, count, set state, update, delete. */
import { Elysia } from 'elysia';
import { jsonBody } from '../schemas/openapi.ts';
import type { Config } from '../config.ts';
import { ApiError, detail } from '../http/errors.ts';
import { jsonText, noContent } from '../http/respond.ts';
import { CountFlowRunsBody, ReadFlowRunsBody } from '../schemas/bodies.ts';
import { FlowRunCreate, FlowRunUpdate, SetState, type StateCreate } from '../schemas/companions.ts';
import { flowRunStateEvent } from '../events/flow-run-state-event.ts';
import { flowRunJson, stateJson, type FlowRunRecord, type StateRecord } from '../store/companion-records.ts';
import { nowMicros } from '../time.ts';
import type { Store } from '../store/contract.ts';
import { queryRoutes } from './companion-queries.ts';
import { createHandler, deleteHandler, readHandler, readIdAndModel } from './handlers.ts';

const tags = ['Flow Runs'];

/**
 * Stores the `prefect.flow-run.<State>` event Prefect's server emits for an accepted state. The
 * state is already durable: if the event cannot be written, the state stands and only the event is
 * lost, as when Prefect's own event publisher fails after a commit.
 */
async function recordStateChange(store: Store, run: FlowRunRecord, initial: StateRecord | null): Promise<void> {
  try {
    const [flow, deployment, parentTaskRun] = await Promise.all([
      store.flows.get(run.flow_id),
      run.deployment_id === null ? undefined : store.deployments.get(run.deployment_id),
      run.parent_task_run_id === null ? undefined : store.taskRuns.get(run.parent_task_run_id),
    ]);
    await store.events.append([flowRunStateEvent(run, initial, { flow, deployment, parentTaskRun }, nowMicros())], []);
  } catch {
    // Deliberately not an error answer: the client would retry and propose a second state.
  }
}
const notFound = () => detail(404, 'Flow run not found');
const render = (run: FlowRunRecord) => flowRunJson(run);

export function flowRunRoutes(store: Store, config: Config) {
  return new Elysia({ prefix: '/flow_runs' })
    .post('/', createHandler(config, FlowRunCreate, (input: FlowRunCreate) => store.flowRuns.create(input), render), {
      parse: 'none',
      detail: { tags, summary: 'Create Flow Run', requestBody: jsonBody(FlowRunCreate) } as any,
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
        const initial = (await store.flowRuns.get(id))?.state ?? null;
        const run = await store.flowRuns.setState(id, input.state);
        if (!run) throw new ApiError(404, { exception_message: `Flow run with id ${id} not found` });
        await recordStateChange(store, run, initial);
        return jsonText(201, `{"state":${stateJson(run.state)},"status":"ACCEPT","details":{"type":"accept_details"}}`);
      },
      { parse: 'none', detail: { tags, summary: 'Set Flow Run State', requestBody: jsonBody(SetState) } as any },
    )
    .patch(
      '/:id',
      async (ctx) => {
        const { id, input } = await readIdAndModel<FlowRunUpdate>(ctx, config, FlowRunUpdate);
        if (!(await store.flowRuns.update(id, input))) throw notFound();
        return noContent();
      },
      { parse: 'none', detail: { tags, summary: 'Update Flow Run', requestBody: jsonBody(FlowRunUpdate) } as any },
    )
    .delete('/:id', deleteHandler((id) => store.flowRuns.delete(id), notFound), {
      parse: 'none',
      detail: { tags, summary: 'Delete Flow Run' },
    });
}
