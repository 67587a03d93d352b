/** `/api/task_runs`: create-or-fetch, read, filter, count, delete. */
import { Elysia } from 'elysia';
import { jsonBody } from '../schemas/openapi.ts';
import type { Config } from '../config.ts';
import { detail } from '../http/errors.ts';
import { CountTaskRunsBody, ReadTaskRunsBody } from '../schemas/bodies.ts';
import { TaskRunCreate } from '../schemas/companions.ts';
import { taskRunJson, type TaskRunRecord } from '../store/companion-records.ts';
import type { Store } from '../store/contract.ts';
import { queryRoutes } from './companion-queries.ts';
import { createHandler, deleteHandler, readHandler } from './handlers.ts';

const tags = ['Task Runs'];
const notFound = () => detail(404, 'Task not found'); // Prefect's wording
const render = (task: TaskRunRecord) => taskRunJson(task);

export function taskRunRoutes(store: Store, config: Config) {
  return new Elysia({ prefix: '/task_runs' })
    .post('/', createHandler(config, TaskRunCreate, (input: TaskRunCreate) => store.taskRuns.create(input), render), {
      parse: 'none',
      detail: { tags, summary: 'Create Task Run', requestBody: jsonBody(TaskRunCreate) } as any,
    })
    .get('/:id', readHandler((id) => store.taskRuns.get(id), notFound, render), {
      parse: 'none',
      detail: { tags, summary: 'Read Task Run' },
    })
    .use(
      queryRoutes(config, {
        prefix: '',
        tag: 'Task Runs',
        filterBody: ReadTaskRunsBody,
        countBody: CountTaskRunsBody,
        defaultSort: 'ID_DESC',
        find: (filters, sort, page) => store.taskRuns.find(filters, sort, page),
        count: (filters) => store.taskRuns.count(filters),
        render,
      }),
    )
    .delete('/:id', deleteHandler((id) => store.taskRuns.delete(id), notFound), {
      parse: 'none',
      detail: { tags, summary: 'Delete Task Run' },
    });
}
