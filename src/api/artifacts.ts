/**
 * `/api/artifacts`: the nine routes of Prefect 3.0.0 (`shared/spec/artifacts-api.md` §6), in
 * Prefect's registration order (it decides the `Allow` header of a 405). Each route reads the
 * body, checks the API version, validates, calls the store and returns stored JSON.
 */
import { Elysia } from 'elysia';
import type { Config } from '../config.ts';
import { readJsonBody, type JsonBody } from '../http/body.ts';
import { checkApiVersion } from '../http/api-version.ts';
import { readEmbeddedBody } from '../http/embedded.ts';
import { artifactNotFound } from '../http/errors.ts';
import { readModel } from '../http/model.ts';
import { topLevelMember } from '../http/json-text.ts';
import { jsonText, noContent } from '../http/respond.ts';
import { ArtifactCreate, ArtifactUpdate, truncateMetadata } from '../schemas/artifacts.ts';
import {
  bodyParams,
  CountArtifactsBody,
  CountLatestArtifactsBody,
  ReadArtifactsBody,
  ReadLatestArtifactsBody,
} from '../schemas/bodies.ts';
import type { ArtifactPatch, ArtifactQueries, Store } from '../store/contract.ts';
import { artifactJson, jsonArray } from '../store/records.ts';
import { docs } from './docs.ts';
import { deleteHandler, readHandler, readIdAndModel } from './handlers.ts';

/** `data` as the client wrote it, or undefined when the body has no `data` member. */
function rawData(body: JsonBody, model: { data?: unknown }): string | undefined {
  if (!('data' in model)) return undefined;
  return topLevelMember(body.text, 'data') ?? 'null';
}

/** `queries` runs the four queries (the store's: LMDB's in slices, long ones on its query thread; PostgreSQL's as SQL). */
export function artifactRoutes(root: Store, config: Config, queries: ArtifactQueries) {
  const limit = { max: config.defaultLimit };
  const store = root.artifacts;
  return new Elysia({ prefix: '/artifacts' })
    .post(
      '/',
      async ({ request }) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        const input = readModel<ArtifactCreate>(body, ArtifactCreate);
        const record = await store.create({
          key: input.key ?? null,
          type: input.type ?? null,
          description: input.description ?? null,
          data: rawData(body, input) ?? 'null',
          metadata: truncateMetadata(input.metadata_ ?? null),
          flowRunId: input.flow_run_id ?? null,
          taskRunId: input.task_run_id ?? null,
        });
        return jsonText(201, artifactJson(record));
      },
      { parse: 'none', detail: docs.createArtifact },
    )
    .get('/:id', readHandler((id) => store.getJson(id), artifactNotFound, (json) => json), {
      parse: 'none',
      detail: docs.readArtifact,
    })
    .get(
      // The router needs one parameter name per position, so the key arrives as `id`; the
      // OpenAPI document names it `key` (see `docs.ts`).
      '/:id/latest',
      async ({ request, params }) => {
        checkApiVersion(request);
        const json = await store.latestByKeyJson(params.id);
        if (json === undefined) throw artifactNotFound();
        return jsonText(200, json);
      },
      { parse: 'none', detail: { hide: true } },
    )
    .post(
      '/filter',
      async ({ request }) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        const { values, limit: take } = readEmbeddedBody(body, bodyParams(ReadArtifactsBody), limit);
        return jsonText(200, jsonArray((await queries.run({ route: 'filter', values, limit: take })) as string[]));
      },
      { parse: 'none', detail: docs.readArtifacts },
    )
    .post(
      '/latest/filter',
      async ({ request }) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        const { values, limit: take } = readEmbeddedBody(body, bodyParams(ReadLatestArtifactsBody), limit);
        return jsonText(200, jsonArray((await queries.run({ route: 'latest/filter', values, limit: take })) as string[]));
      },
      { parse: 'none', detail: docs.readLatestArtifacts },
    )
    .post(
      '/count',
      async ({ request }) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        const { values } = readEmbeddedBody(body, bodyParams(CountArtifactsBody));
        return jsonText(200, String(await queries.run({ route: 'count', values, limit: 0 })));
      },
      { parse: 'none', detail: docs.countArtifacts },
    )
    .post(
      '/latest/count',
      async ({ request }) => {
        const body = await readJsonBody(request, config);
        checkApiVersion(request);
        const { values } = readEmbeddedBody(body, bodyParams(CountLatestArtifactsBody));
        return jsonText(200, String(await queries.run({ route: 'latest/count', values, limit: 0 })));
      },
      { parse: 'none', detail: docs.countLatestArtifacts },
    )
    .patch(
      '/:id',
      async (ctx) => {
        const { id, input, body } = await readIdAndModel<ArtifactUpdate>(ctx, config, ArtifactUpdate);
        const patch: ArtifactPatch = {};
        const data = rawData(body, input);
        if (data !== undefined) patch.data = data;
        if ('description' in input) patch.description = input.description ?? null;
        if ('metadata_' in input) patch.metadata = truncateMetadata(input.metadata_ ?? null);
        if (!(await store.update(id, patch))) throw artifactNotFound();
        return noContent();
      },
      { parse: 'none', detail: docs.updateArtifact },
    )
    .delete('/:id', deleteHandler((id) => store.delete(id), artifactNotFound), {
      parse: 'none',
      detail: docs.deleteArtifact,
    });
}
