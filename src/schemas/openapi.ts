/**
 * Publishes the TypeBox schemas as OpenAPI components: every schema with an `$id` becomes a
 * named component and is referenced by `$ref` wherever it is nested, as in Prefect's document.
 */
import { t } from './common.ts';
import { Artifact, ArtifactCollection, ArtifactCreate, ArtifactUpdate } from './artifacts.ts';
import {
  CountArtifactsBody,
  CountDeploymentsBody,
  CountFlowRunsBody,
  CountFlowsBody,
  CountLatestArtifactsBody,
  CountTaskRunsBody,
  ReadArtifactsBody,
  ReadDeploymentsBody,
  ReadFlowRunsBody,
  ReadFlowsBody,
  ReadLatestArtifactsBody,
  ReadTaskRunsBody,
} from './bodies.ts';
import { DeploymentCreate, DeploymentFlowRunCreate, FlowCreate, FlowRunCreate, FlowRunUpdate, FlowUpdate, SetState, TaskRunCreate } from './companions.ts';
import { Event, ReadEventsBody } from './events.ts';
import { LogCreate, ReadLogsBody } from './logs.ts';

type Json = Record<string, any>;

export const ValidationError = t.Object(
  {
    loc: t.Array(t.Union([t.String(), t.Integer()]), { title: 'Location' }),
    msg: t.String({ title: 'Message' }),
    type: t.String({ title: 'Error Type' }),
    input: t.Optional(t.Unknown({ title: 'Input' })),
    ctx: t.Optional(t.Object({}, { title: 'Context' })),
  },
  { $id: 'ValidationError', title: 'ValidationError' },
);

export const HTTPValidationError = t.Object(
  { detail: t.Optional(t.Array(ValidationError, { title: 'Detail' })) },
  { $id: 'HTTPValidationError', title: 'HTTPValidationError' },
);

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A route's `requestBody`: the named component (`$id`), or a list of it. */
export const jsonBody = (schema: { $id?: string }, list = false) => {
  const named = ref(schema.$id!);
  return { required: true, content: { 'application/json': { schema: list ? { type: 'array', items: named } : named } } };
};

/** Converts one schema; nested named schemas are replaced by references and collected. */
function convert(schema: Json, components: Json, top: boolean): Json {
  if (!top && schema.$id) {
    components[schema.$id] ??= convert(schema, components, true);
    return 'default' in schema ? { ...ref(schema.$id), default: schema.default } : ref(schema.$id);
  }
  const out: Json = {};
  for (const [name, value] of Object.entries(schema)) {
    if (name === '$id' || name.startsWith('x-')) continue;
    if (name === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Json).map(([prop, s]) => [prop, convert(s, components, false)]),
      );
    } else if (name === 'patternProperties') {
      out.additionalProperties = convert(Object.values(value as Json)[0], components, false); // OpenAPI 3.0 has no patternProperties
    } else if (name === 'anyOf') {
      out.anyOf = (value as Json[]).map((s) => convert(s, components, false));
    } else if (name === 'items' || (name === 'additionalProperties' && typeof value === 'object')) {
      out[name] = convert(value as Json, components, false);
    } else {
      out[name] = value;
    }
  }
  return out;
}

/** Every named schema the API publishes, reachable from the request and response models. */
export function openApiComponents(): Json {
  const components: Json = {};
  const roots = [
    Artifact,
    ArtifactCollection,
    ArtifactCreate,
    ArtifactUpdate,
    ReadArtifactsBody,
    ReadLatestArtifactsBody,
    CountArtifactsBody,
    CountLatestArtifactsBody,
    FlowCreate,
    FlowUpdate,
    FlowRunCreate,
    FlowRunUpdate,
    SetState,
    TaskRunCreate,
    DeploymentCreate,
    DeploymentFlowRunCreate,
    ReadFlowsBody,
    CountFlowsBody,
    ReadFlowRunsBody,
    CountFlowRunsBody,
    ReadTaskRunsBody,
    CountTaskRunsBody,
    ReadDeploymentsBody,
    CountDeploymentsBody,
    LogCreate,
    ReadLogsBody,
    Event,
    ReadEventsBody,
    HTTPValidationError,
  ];
  for (const root of roots) components[root.$id!] ??= convert(root, components, true);
  return components;
}
