/**
 * Our OpenAPI document against the one a Prefect 3.0.0 server publishes for its artifact routes
 * at GET /api/openapi.json (test/reference/prefect-3.0.0-openapi-artifacts.json): the
 * same operations, request bodies and component schemas (property names and order, required
 * fields, forbidden extras, enum values), so generated clients see the same API. Compared as
 * each of our URLs serves it: `/api/openapi.json` (paths relative to the `/api` mount, as the
 * reference), and `/openapi.json` and `/docs/json` (paths under `/api`, as Prefect's root app).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { harness, type Harness } from '../helpers.ts';
import { describeBackends } from '../backends.ts';

const REFERENCE = fileURLToPath(
  new URL('../reference/prefect-3.0.0-openapi-artifacts.json', import.meta.url),
);
const reference: any = JSON.parse(readFileSync(REFERENCE, 'utf8'));

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

/** Our documents: where they are served, and where the reference's (relative) paths are in them. */
const DOCUMENTS: { url: string; pathOf: (referencePath: string) => string }[] = [
  { url: '/api/openapi.json', pathOf: (path) => path },
  { url: '/openapi.json', pathOf: (path) => `/api${path}` },
  { url: '/docs/json', pathOf: (path) => `/api${path}` },
];

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

describeBackends('the OpenAPI documents', (backend) => {
  let h: Harness;
  const served: Record<string, any> = {};
  beforeAll(async () => {
    h = await harness({}, backend);
    for (const { url } of DOCUMENTS) {
      const reply = await h.call('GET', url);
      expect(reply.status, url).toBe(200);
      expect(reply.headers.get('content-type'), url).toStartWith('application/json');
      served[url] = reply.body;
    }
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

  describe('where the document is served', () => {
    test('/openapi.json is /docs/json: paths under /api, as the root app of a Prefect server serves them', () => {
      expect(served['/openapi.json']).toEqual(served['/docs/json']);
      const paths = Object.keys(served['/openapi.json'].paths);
      expect(paths).toContain('/api/artifacts/filter');
      for (const path of paths) expect(path).toStartWith('/api/');
    });

    test('/api/openapi.json has the same paths relative to the /api mount, and otherwise the same document', () => {
      const prefixed = served['/openapi.json'];
      const mounted = served['/api/openapi.json'];
      expect(Object.keys(mounted.paths)).toEqual(Object.keys(prefixed.paths).map((path) => path.slice('/api'.length)));
      expect(Object.keys(mounted.paths)).toContain('/artifacts/filter');
      for (const [path, item] of Object.entries(mounted.paths)) expect(item).toEqual(prefixed.paths[`/api${path}`]);
      const { paths: _a, ...restMounted } = mounted;
      const { paths: _b, ...restPrefixed } = prefixed;
      expect(restMounted).toEqual(restPrefixed);
      expect(mounted.servers).toBeUndefined(); // as Prefect's: no `servers`
    });

    test('/api/openapi.json has every artifact path of the reference, spelled as there', () => {
      const paths = Object.keys(served['/api/openapi.json'].paths);
      for (const path of Object.keys(reference.paths)) expect(paths).toContain(path);
    });

    test('the documents do not list themselves or the docs', () => {
      for (const { url } of DOCUMENTS) {
        for (const path of Object.keys(served[url].paths)) expect(path, url).not.toMatch(/openapi\.json|^\/docs/);
      }
    });

    test('/api/openapi.json needs the credentials like every /api route; /openapi.json, like Prefect\'s root app, does not', async () => {
      const locked = await harness({ authString: 'admin:s3cret' }, backend);
      try {
        const authorization = `Basic ${Buffer.from('admin:s3cret').toString('base64')}`;
        expect((await locked.call('GET', '/api/openapi.json')).status).toBe(401);
        const withCredentials = await locked.call('GET', '/api/openapi.json', undefined, { authorization });
        expect(withCredentials.status).toBe(200);
        expect(withCredentials.body).toEqual(served['/api/openapi.json']);
        const open = await locked.call('GET', '/openapi.json');
        expect(open.status).toBe(200);
        expect(open.body).toEqual(served['/openapi.json']);
        expect((await locked.call('GET', '/docs/json')).status).toBe(401);
        expect((await locked.call('GET', '/api/health')).status).toBe(200);
      } finally {
        await locked.close();
      }
    });

    test('other methods get 405, as from FastAPI', async () => {
      for (const url of ['/openapi.json', '/api/openapi.json']) {
        const reply = await h.call('POST', url, {});
        expect(reply.status, url).toBe(405);
        expect(reply.headers.get('allow')).toBe('GET');
      }
    });
  });

  describe('references', () => {
    test('every $ref names a component the document has', () => {
      const doc = served['/api/openapi.json'];
      const missing = [...refs(doc)].filter((name) => !(name in doc.components.schemas));
      expect(missing).toEqual([]);
    });

    test('the routes a Prefect client writes through document their bodies', () => {
      const paths = served['/api/openapi.json'].paths;
      const expected: [string, string, string][] = [
        ['post', '/flows/', 'FlowCreate'],
        ['post', '/flow_runs/', 'FlowRunCreate'],
        ['post', '/flow_runs/{id}/set_state', 'Body_set_flow_run_state'],
        ['post', '/task_runs/', 'TaskRunCreate'],
        ['post', '/deployments/', 'DeploymentCreate'],
        ['post', '/logs/filter', 'Body_read_logs_logs_filter_post'],
        ['post', '/events/filter', 'Body_read_events_events_filter_post'],
        ['post', '/flow_runs/filter', 'Body_read_flow_runs_flow_runs_filter_post'],
      ];
      for (const [method, path, component] of expected) expect(bodyRef(paths[path]?.[method]), `${method} ${path}`).toBe(`#/components/schemas/${component}`);
      expect(paths['/logs/'].post.requestBody.content['application/json'].schema).toEqual({ type: 'array', items: { $ref: '#/components/schemas/LogCreate' } });
    });
  });

  describe('OpenAPI document vs Prefect 3.0.0', () => {
    test('the reference lists the schemas and operations this test compares', () => {
      expect(compared.length).toBeGreaterThan(50);
      expect(compared).toContain('ArtifactFilter');
      expect(compared).toContain('Body_read_artifacts_artifacts_filter_post');
      expect(compared).toContain('StateType');
      expect(operations).toHaveLength(9);
    });

    for (const { url, pathOf } of DOCUMENTS) {
      describe(`${url}: component schemas`, () => {
        for (const name of compared) {
          test(name, () => {
            const theirs = reference.components.schemas[name];
            const mine = served[url].components?.schemas?.[name];
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

      describe(`${url}: operations`, () => {
        for (const [path, method] of operations) {
          test(`${method.toUpperCase()} ${path}`, () => {
            const theirs = reference.paths[path][method];
            const mine = served[url].paths?.[pathOf(path)]?.[method];
            expect(mine, `${method} ${pathOf(path)} is missing`).toBeDefined();
            expect(mine.operationId).toBe(theirs.operationId);
            expect(bodyRef(mine)).toBe(bodyRef(theirs));
            expect(Boolean(mine.requestBody?.required)).toBe(Boolean(theirs.requestBody?.required));
          });
        }
      });
    }
  });
});
