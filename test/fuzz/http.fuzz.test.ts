/**
 * Hostile input, fuzzed through `app.handle`: property-based tests (fast-check) that send random
 * and adversarial bodies, paths, headers and query strings to every route — wrong types, deep
 * nesting, huge strings and arrays, invalid UTF-8, duplicate keys, numbers at and past every
 * bound, bad UUIDs, unexpected content types, empty and truncated bodies — against a store seeded
 * with a flow, a flow run, a task run, a deployment and artifacts, so valid-looking ids hit real
 * rows and mutated valid bodies create, patch and delete real things.
 *
 * Every reply must satisfy the oracle in `support.ts` (no 5xx; 204/307 empty; 2xx JSON; errors in
 * one of Prefect's shapes); after every run GET /api/health answers `true`, and after every run
 * that wrote, `store.check()` finds nothing. Each property runs on a fresh store (rotated every
 * 150 runs to keep the check cheap) whose harness close() checks the store once more.
 *
 * CI runs FUZZ_RUNS (default 500) runs per property (the whole suite takes a few seconds). A long
 * session:
 *
 *   FUZZ_RUNS=20000 npm test -- test/fuzz
 *
 * Replay a failure with the seed it printed: FUZZ_SEED=<seed> npm test -- test/fuzz. Findings are
 * kept, shrunk, as explicit cases in `regressions.test.ts`.
 */
import { afterAll, describe, test } from 'bun:test';
import fc from 'fast-check';
import { DEFAULTS } from '../../src/config.ts';
import type { Harness } from '../helpers.ts';
import { ALL_ROUTES, ROUTES, buildRequest, headerSet, queryString, requestRecipe, segment, str, type Route } from './generators.ts';
import { Target, newStats, params, summary, timeoutFor, withTarget, type FuzzRequest } from './support.ts';
import { describeBackends } from '../backends.ts';

const stats = newStats();
afterAll(() => console.log(summary('http', stats)));

describeBackends('http fuzz', (backend) => {
  /** One request per run, drawn from `routes`, against a store whose limits are `config`'s. */
  function routeProperty(name: string, routes: Route[], config = {}, depthLimit = DEFAULTS.maxJsonDepth, scale = 1, queryWeight = 1) {
    test(
      name,
      async () => {
        const target = new Target(stats, config, undefined, undefined, backend);
        await withTarget(target, () =>
          fc.assert(
            fc.asyncProperty(requestRecipe(routes, depthLimit, { queryWeight }), async (recipe) => {
              await target.beginRun();
              const req = buildRequest(recipe, routes, target.world);
              await target.send(req);
              await target.endRun([req]);
            }),
            params(scale),
          ),
        );
      },
      timeoutFor(scale),
    );
  }

  describe('every route answers hostile input without a 5xx, in Prefect\'s error shapes', () => {
    routeProperty('artifacts: the nine routes', ROUTES.artifacts);
    routeProperty('flows: create, read by id and name, filter, count, patch, delete', ROUTES.flows);
    routeProperty('flow runs: create, read, filter, count, set_state, patch, delete', ROUTES.flowRuns);
    routeProperty('task runs: create, read, filter, count, delete', ROUTES.taskRuns);
    routeProperty('deployments: create, read, filter, count, create_flow_run, delete', ROUTES.deployments);
    routeProperty('root routes with random query strings and headers', ROUTES.root, {}, DEFAULTS.maxJsonDepth, 0.5, 4);
  });

  describe('limits: depth, size and page bounds, at and past them', () => {
    // Small limits so the bounds are reached cheaply: nesting 16, bodies 64 KiB, pages of 7.
    routeProperty('all routes under small limits', ALL_ROUTES, { maxJsonDepth: 16, maxBodyBytes: 64 * 1024, defaultLimit: 7 }, 16);
  });

  describe('paths, methods and query strings nobody registered', () => {
    const unknownPath = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'CONNECT', 'TRACE', 'patch'),
      prefix: fc.constantFrom('', '/api', '/api/artifacts', '/api/flows', '/api/flow_runs', '/api/task_runs', '/api/deployments', '/docs', '/api/admin', '/API'),
      segments: fc.array(segment, { maxLength: 4 }),
      trailingSlash: fc.boolean(),
      query: queryString,
      headers: headerSet,
      body: fc.option(fc.constantFrom('{}', '', 'null', '{"a":1}', '['), { nil: undefined }),
    });
    test(
      'random paths and methods: 404/405/307 in Prefect\'s shapes',
      async () => {
        const target = new Target(stats, {}, undefined, undefined, backend);
        await withTarget(target, () =>
          fc.assert(
            fc.asyncProperty(unknownPath, async (p) => {
              await target.beginRun();
              const path = `${p.prefix}/${p.segments.map(str).join('/')}${p.trailingSlash ? '/' : ''}${p.query}`;
              const req: FuzzRequest = { method: p.method, path: path.startsWith('/') ? path : `/${path}`, headers: p.headers, body: p.body };
              await target.send(req);
              await target.endRun([req]);
            }),
            params(0.5),
          ),
        );
      },
      timeoutFor(0.5),
    );
  });

  describe('sequences and concurrency', () => {
    test(
      'short sequences of requests over all routes, sent one after another',
      async () => {
        const target = new Target(stats, {}, undefined, undefined, backend);
        await withTarget(target, () =>
          fc.assert(
            fc.asyncProperty(fc.array(requestRecipe(ALL_ROUTES, DEFAULTS.maxJsonDepth), { minLength: 2, maxLength: 5 }), async (recipes) => {
              await target.beginRun();
              const sent: FuzzRequest[] = [];
              for (const recipe of recipes) {
                const req = buildRequest(recipe, ALL_ROUTES, target.world);
                sent.push(req);
                await target.send(req);
              }
              await target.endRun(sent);
            }),
            params(0.3),
          ),
        );
      },
      timeoutFor(0.3, 80),
    );

    test(
      'batches of requests over all routes, sent concurrently (writes share LMDB batches)',
      async () => {
        const target = new Target(stats, {}, undefined, undefined, backend);
        await withTarget(target, () =>
          fc.assert(
            fc.asyncProperty(fc.array(requestRecipe(ALL_ROUTES, DEFAULTS.maxJsonDepth), { minLength: 2, maxLength: 6 }), async (recipes) => {
              await target.beginRun();
              const sent = recipes.map((recipe) => buildRequest(recipe, ALL_ROUTES, target.world));
              const results = await Promise.allSettled(sent.map((req) => target.send(req)));
              const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
              if (failed) throw failed.reason;
              await target.endRun(sent);
            }),
            params(0.3),
          ),
        );
      },
      timeoutFor(0.3, 80),
    );
  });

  describe('auth and CSRF layers switched on', () => {
    const secret = 'fuzz:s3cret';
    const basic = `Basic ${Buffer.from(secret).toString('base64')}`;
    const config = { authString: secret, csrf: { enabled: true, tokenExpirationSeconds: 3600 } };
    // The world is seeded with real credentials and a real CSRF token.
    const credentials = async (h: Harness): Promise<[string, string][]> => {
      const reply = await h.call('GET', '/api/csrf-token?client=fuzz-client', undefined, { authorization: basic });
      if (reply.status !== 200) throw new Error(`csrf-token: ${reply.status} ${reply.text}`);
      return [
        ['authorization', basic],
        ['prefect-csrf-token', reply.body.token],
        ['prefect-csrf-client', 'fuzz-client'],
      ];
    };
    const authHeader = fc.oneof(
      { arbitrary: fc.constant('valid' as const), weight: 3 },
      { arbitrary: fc.constant(undefined), weight: 1 },
      {
        arbitrary: fc.constantFrom(
          'Basic', 'Basic ', `basic ${basic.slice(6)}`, 'Bearer x', 'Basic !!!', `Basic ${Buffer.from('fuzz').toString('base64')}`,
          `Basic ${Buffer.from([0xff, 0xfe, 0x3a]).toString('base64')}`, `${basic} extra`, ` ${basic}`, basic.slice(0, -2),
          `Basic ${Buffer.from('fuzz:s3cret\u0000').toString('base64')}`, `Basic ${Buffer.from(':').toString('base64')}`,
        ),
        weight: 2,
      },
    );
    const csrfHeader = fc.oneof(
      { arbitrary: fc.constant('valid' as const), weight: 3 },
      { arbitrary: fc.constant(undefined), weight: 1 },
      { arbitrary: fc.oneof(fc.uuid(), fc.constantFrom('', 'x', 'fuzz-client', ' ', '%00')), weight: 2 },
    );
    test(
      'random credentials and CSRF headers on every route: 401/403 in Prefect\'s shapes',
      async () => {
        const target = new Target(stats, config, 150, credentials, backend);
        await withTarget(target, () =>
          fc.assert(
            fc.asyncProperty(requestRecipe(ALL_ROUTES, DEFAULTS.maxJsonDepth), authHeader, csrfHeader, csrfHeader, async (recipe, auth, token, client) => {
              await target.beginRun();
              const valid = Object.fromEntries(target.validHeaders);
              const built = buildRequest(recipe, ALL_ROUTES, target.world);
              const extra: [string, string][] = [];
              const add = (name: string, value: string | undefined) => {
                if (value !== undefined) extra.push([name, value === 'valid' ? valid[name] : value]);
              };
              add('authorization', auth);
              add('prefect-csrf-token', token);
              add('prefect-csrf-client', client);
              const req = { ...built, headers: [...built.headers, ...extra] };
              await target.send(req);
              await target.endRun([req]);
            }),
            params(0.5),
          ),
        );
      },
      timeoutFor(0.5),
    );
  });
});
