/** `/api/deployments`: create-or-update, read, filter, count, delete, and create a flow run. */
import { Elysia } from 'elysia';
import { jsonBody } from '../schemas/openapi.ts';
import type { Config } from '../config.ts';
import type { JsonBody } from '../http/body.ts';
import { detail, validationFailed } from '../http/errors.ts';
import { jsonText } from '../http/respond.ts';
import { CountDeploymentsBody, ReadDeploymentsBody } from '../schemas/bodies.ts';
import {
  DeploymentCreate,
  DeploymentFlowRunCreate,
  LEGACY_DEPLOYMENT_KEYS,
} from '../schemas/companions.ts';
import { parametersProblem, schemaProblem } from '../validation/parameters.ts';
import { isPlainObject } from '../validation/validate.ts';
import { deploymentJson, flowRunJson } from '../store/companion-records.ts';
import type { Store } from '../store/contract.ts';
import { queryRoutes } from './companion-queries.ts';
import { createHandler, deleteHandler, readHandler, readIdAndModel } from './handlers.ts';

const tags = ['Deployments'];
const notFound = () => detail(404, 'Deployment not found');

/**
 * What Prefect's pre-validators do to a deployment body before validating it (so a 422 echoes
 * the result): drop legacy worker-pool keys and fill in `parameters` and
 * `parameter_openapi_schema`.
 */
function preValidated(body: JsonBody): JsonBody {
  if (!isPlainObject(body.value)) return body;
  const value = { ...body.value };
  for (const key of LEGACY_DEPLOYMENT_KEYS) delete value[key];
  if (!('parameters' in value)) value.parameters = {};
  if (!('parameter_openapi_schema' in value)) value.parameter_openapi_schema = null;
  return { ...body, value };
}

/**
 * Only when the request itself says `"enforce_parameter_schema": true` does Prefect check the
 * schema and the parameters at creation (`required` is left for flow-run creation).
 */
function checkParameterSchema(body: JsonBody, input: DeploymentCreate): void {
  if (!isPlainObject(body.value) || body.value.enforce_parameter_schema !== true) return;
  const schema = input.parameter_openapi_schema;
  if (!schema) return;
  const problem = schemaProblem(schema) ?? parametersProblem(schema, input.parameters ?? {}, { checkRequired: false });
  if (problem) {
    throw validationFailed(
      [{ type: 'value_error', loc: ['body'], msg: `Value error, ${problem}`, input: body.value, ctx: { error: {} } }],
      body.value,
    );
  }
}

export function deploymentRoutes(store: Store, config: Config) {
  return new Elysia({ prefix: '/deployments' })
    .post(
      '/',
      createHandler(
        config,
        DeploymentCreate,
        (input: DeploymentCreate, body) => {
          checkParameterSchema(body, input);
          return store.deployments.create(input);
        },
        deploymentJson,
        preValidated,
      ),
      { parse: 'none', detail: { tags, summary: 'Create Deployment', requestBody: jsonBody(DeploymentCreate) } as any },
    )
    .get('/:id', readHandler((id) => store.deployments.get(id), notFound, deploymentJson), {
      parse: 'none',
      detail: { tags, summary: 'Read Deployment' },
    })
    .use(
      queryRoutes(config, {
        prefix: '',
        tag: 'Deployments',
        filterBody: ReadDeploymentsBody,
        countBody: CountDeploymentsBody,
        defaultSort: 'NAME_ASC',
        find: (filters, sort, page) => store.deployments.find(filters, sort, page),
        count: (filters) => store.deployments.count(filters),
        render: deploymentJson,
      }),
    )
    .post(
      '/:id/create_flow_run',
      async (ctx) => {
        const { id, input } = await readIdAndModel<DeploymentFlowRunCreate>(ctx, config, DeploymentFlowRunCreate);
        const { record, created } = await store.deployments.createFlowRun(id, input);
        return jsonText(created ? 201 : 200, flowRunJson(record));
      },
      { parse: 'none', detail: { tags, summary: 'Create Flow Run From Deployment', requestBody: jsonBody(DeploymentFlowRunCreate) } as any },
    )
    .delete('/:id', deleteHandler((id) => store.deployments.delete(id), notFound), {
      parse: 'none',
      detail: { tags, summary: 'Delete Deployment' },
    });
}
