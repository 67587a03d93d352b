/** `/api/task_runs`: create-or-fetch, read, filter, count, delete. */
import { Elysia } from 'elysia';
import type { Config } from '../config.ts';
import { checkApiVersion } from '../http/api-version.ts';
import { readJsonBody } from '../http/body.ts';
import { detail } from '../http/errors.ts';
import { readModel, requirePathId } from '../http/model.ts';
import { jsonText, noContent } from '../http/respond.ts';
import { countTaskRuns, findTaskRuns } from '../query/companions.ts';
import { CountTaskRunsBody, ReadTaskRunsBody } from '../schemas/bodies.ts';
import { TaskRunCreate } from '../schemas/companions.ts';
import { taskRunJson } from '../store/companion-records.ts';
import type { Store } from '../store/store.ts';
import { queryRoutes } from './companion-queries.ts';

const tags = ['Task Runs'];
const notFound = () => detail(404, 'Task not found'); // Prefect's wording

export function taskRunRoutes(store: Store, config: Config) {
  return new Elysia({ prefix: '/task_runs' })
    .post(
      '/',
      async ({ request }) => {
        const body = await readJsonBody(request);
        checkApiVersion(request);
        const { record, created } = await store.taskRuns.create(readModel<TaskRunCreate>(body, TaskRunCreate));
        return jsonText(created ? 201 : 200, taskRunJson(record));
      },
      { parse: 'none', detail: { tags, summary: 'Create Task Run' } },
    )
    .get(
      '/:id',
      ({ request, params }) => {
        checkApiVersion(request);
        const task = store.taskRuns.get(requirePathId(params.id));
        if (!task) throw notFound();
        return jsonText(200, taskRunJson(task));
      },
      { parse: 'none', detail: { tags, summary: 'Read Task Run' } },
    )
    .use(
      queryRoutes(store, config, {
        prefix: '',
        tag: 'Task Runs',
        filterBody: ReadTaskRunsBody,
        countBody: CountTaskRunsBody,
        defaultSort: 'ID_DESC',
        find: findTaskRuns,
        count: countTaskRuns,
        render: (task) => taskRunJson(task),
      }),
    )
    .delete(
      '/:id',
      async ({ request, params }) => {
        checkApiVersion(request);
        if (!(await store.taskRuns.delete(requirePathId(params.id)))) throw notFound();
        return noContent();
      },
      { parse: 'none', detail: { tags, summary: 'Delete Task Run' } },
    );
}
