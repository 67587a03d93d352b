/**
 * Handlers the resources share: create (201, or 200 when the store returned an existing
 * record), read by id, and delete by id — each reading the body first, then checking the API
 * version, as Prefect's routers do.
 */
import { checkApiVersion } from '../http/api-version.ts';
import { readJsonBody, type BodyLimits, type JsonBody } from '../http/body.ts';
import type { ApiError } from '../http/errors.ts';
import { pathId, readModel, requirePathId } from '../http/model.ts';
import { jsonText, noContent } from '../http/respond.ts';

type Ctx = { request: Request; params: Record<string, string> };

export function createHandler<I, R>(
  config: BodyLimits,
  schema: object,
  create: (input: I, body: JsonBody) => Promise<{ record: R; created: boolean }>,
  render: (record: R) => string,
  prepare: (body: JsonBody) => JsonBody = (body) => body,
) {
  return async ({ request }: Ctx) => {
    const body = prepare(await readJsonBody(request, config));
    checkApiVersion(request);
    const { record, created } = await create(readModel<I>(body, schema), body);
    return jsonText(created ? 201 : 200, render(record));
  };
}

export function readHandler<R>(get: (id: string) => R | undefined | Promise<R | undefined>, notFound: () => ApiError, render: (record: R) => string) {
  return async ({ request, params }: Ctx) => {
    checkApiVersion(request);
    const record = await get(requirePathId(params.id));
    if (record === undefined) throw notFound();
    return jsonText(200, render(record));
  };
}

export function deleteHandler(remove: (id: string) => Promise<boolean>, notFound: () => ApiError) {
  return async ({ request, params }: Ctx) => {
    checkApiVersion(request);
    if (!(await remove(requirePathId(params.id)))) throw notFound();
    return noContent();
  };
}

/**
 * For routes with an `{id}` and a model body (PATCH, set_state, create_flow_run): the body,
 * the version check, then the id and the model validated together — one 422 lists both.
 */
export async function readIdAndModel<I>(
  { request, params }: Ctx,
  config: BodyLimits,
  schema: object,
): Promise<{ id: string; input: I; body: JsonBody }> {
  const body = await readJsonBody(request, config);
  checkApiVersion(request);
  const { id, issues } = pathId(params.id, 'id');
  const input = readModel<I>(body, schema, issues);
  return { id: id!, input, body };
}
