/**
 * Our OpenAPI document (GET /docs/json) against the one a Prefect 3.0.0 server publishes for its
 * artifact routes (shared/spec/reference/prefect-3.0.0-openapi-artifacts.json): the same
 * operations, request bodies and component schemas (property names and order, required fields,
 * forbidden extras, enum values), so generated clients see the same API. Skipped when the
 * reference file is not there.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { harness, type Harness } from '../helpers.ts';

const REFERENCE = fileURLToPath(
  new URL('../../../shared/spec/reference/prefect-3.0.0-openapi-artifacts.json', import.meta.url),
);
const available = existsSync(REFERENCE);
const reference: any = available ? JSON.parse(readFileSync(REFERENCE, 'utf8')) : { paths: {}, components: { schemas: {} } };
const maybe = available ? test : test.skip;

const PREFIXES = ['Artifact', 'FlowRunFilter', 'TaskRunFilter', 'FlowFilter', 'DeploymentFilter', 'Body_'];
const compared = Object.keys(reference.components.schemas).filter(
  (name) => PREFIXES.some((p) => name.startsWith(p)) || name === 'Operator' || name === 'StateType',
);
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];
const operations: [string, string][] = Object.entries(reference.paths as Record<string, any>).flatMap(([path, item]) =>
  Object.keys(item)
    .filter((m) => METHODS.includes(m))
    .map((m) => [path, m] as [string, string]),
);

/** Reference paths are relative to the API app (mounted at /api); ours are absolute. */
const ourPath = (path: string) => (path.startsWith('/api/') ? path : `/api${path}`);

/** Every component a schema refers to, anywhere inside it. */
function refs(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) for (const s of schema) refs(s, out);
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === '$ref' && typeof v === 'string') out.add(v.replace('#/components/schemas/', ''));
      else refs(v, out);
    }
  }
  return out;
}

const bodyRef = (op: any): string | undefined => op?.requestBody?.content?.['application/json']?.schema?.$ref;

let h: Harness;
let ours: any;
beforeAll(async () => {
  h = harness();
  const reply = await h.call('GET', '/docs/json');
  expect(reply.status).toBe(200);
  ours = reply.body;
});
afterAll(async () => {
  await h.close();
});

/** Filter fields newer Prefect clients send, which artifactd accepts (filters.md §9). */
const HEAD_EXTENSIONS: Record<string, string[]> = {
  FlowFilterId: ['not_any_'],
  FlowRunFilterTags: ['any_'],
  FlowRunFilter: ['end_time', 'created_by'],
  TaskRunFilter: ['end_time'],
  DeploymentFilterId: ['not_any_'],
  DeploymentFilterTags: ['any_'],
};

describe('OpenAPI document vs Prefect 3.0.0', () => {
  maybe('the reference lists the schemas and operations this test compares', () => {
    expect(compared.length).toBeGreaterThan(50);
    expect(compared).toContain('ArtifactFilter');
    expect(compared).toContain('Body_read_artifacts_artifacts_filter_post');
    expect(compared).toContain('StateType');
    expect(operations).toHaveLength(9);
  });

  describe('component schemas', () => {
    for (const name of compared) {
      maybe(name, () => {
        const theirs = reference.components.schemas[name];
        const mine = ours.components?.schemas?.[name];
        expect(mine, `component ${name} is missing`).toBeDefined();
        // Ours has Prefect 3.0.0's properties in its order, plus only the documented newer-Prefect
        // additions (README, "Newer Prefect clients"), which come after or beside them.
        const extensions = HEAD_EXTENSIONS[name] ?? [];
        expect(Object.keys(mine.properties ?? {}).filter((p) => !extensions.includes(p))).toEqual(
          Object.keys(theirs.properties ?? {}),
        );
        expect([...(mine.required ?? [])].sort()).toEqual([...(theirs.required ?? [])].sort());
        if (theirs.additionalProperties === false) expect(mine.additionalProperties).toBe(false);
        if (theirs.enum) expect(mine.enum).toEqual(theirs.enum);
        else expect(mine.enum).toBeUndefined();
        // Each property refers to the same components (e.g. ArtifactFilter.key → ArtifactFilterKey).
        for (const [prop, schema] of Object.entries(theirs.properties ?? {})) {
          expect([...refs(mine.properties[prop])].sort(), `${name}.${prop}`).toEqual([...refs(schema)].sort());
        }
      });
    }
  });

  describe('operations', () => {
    for (const [path, method] of operations) {
      maybe(`${method.toUpperCase()} ${path}`, () => {
        const theirs = reference.paths[path][method];
        const mine = ours.paths?.[ourPath(path)]?.[method];
        expect(mine, `${method} ${ourPath(path)} is missing`).toBeDefined();
        expect(mine.operationId).toBe(theirs.operationId);
        expect(bodyRef(mine)).toBe(bodyRef(theirs));
        expect(Boolean(mine.requestBody?.required)).toBe(Boolean(theirs.requestBody?.required));
      });
    }
  });
});
