/**
 * Builds the HTTP application from a store and a configuration: the API under `/api`, the
 * OpenAPI document (`/api/openapi.json`, `/openapi.json`, `/docs/json`) and Swagger UI at
 * `/docs`, Prefect's error shapes for everything that fails, and Prefect's CORS, CSRF and
 * basic-auth layers as configured. Also the `/api/events/in` websocket's upgrade and handlers
 * (events/events-in.ts), which a listening server wires into Bun's, and the one event writer that
 * socket and `POST /api/events` share (events/intake.ts).
 */
import { swagger } from '@elysiajs/swagger';
import { Elysia } from 'elysia';
import { artifactRoutes } from './api/artifacts.ts';
import { directRead } from './api/direct-reads.ts';
import { deploymentRoutes } from './api/deployments.ts';
import { flowRunRoutes } from './api/flow-runs.ts';
import { flowRoutes } from './api/flows.ts';
import { taskRunRoutes } from './api/task-runs.ts';
import { concurrencyLimitRoutes } from './api/concurrency-limits.ts';
import { eventRoutes } from './api/events.ts';
import { logRoutes } from './api/logs.ts';
import { extraPaths } from './api/docs.ts';
import { OpenApiDocuments, type OpenApiDocument } from './api/openapi-json.ts';
import { metricsRoutes } from './api/metrics.ts';
import { rootRoutes, PREFECT_VERSION } from './api/root.ts';
import type { Config } from './config.ts';
import { ApiError, detail, errorResponse, internalError } from './http/errors.ts';
import { checkBasicAuth } from './http/auth.ts';
import { allowOrigin, preflight } from './http/cors.ts';
import { gzipped } from './http/compress.ts';
import { checkCsrf } from './http/csrf.ts';
import { RouteTable } from './http/fallback.ts';
import { pathOf } from './http/path.ts';
import { warningsLogger, type Logger } from './observe/log.ts';
import { IntakeCounters, Metrics } from './observe/metrics.ts';
import { EventsIn, SOCKET_PATHS, type EventSockets } from './events/events-in.ts';
import { EventIntake } from './events/intake.ts';
import { requestObserver } from './observe/observe.ts';
import { openApiComponents } from './schemas/openapi.ts';
import { QueryDeadlineError, StoreUnavailableError } from './store/errors.ts';
import { Refusal } from './store/refusal.ts';
import type { Store } from './store/contract.ts';
import { DOCS_ROUTES, docsResponse } from './ui/docs.ts';
import { UI_ROUTES, uiResponse } from './ui/serve.ts';

export interface App {
  /**
   * Answers one request (what `Bun.serve` calls, and what tests call). The hottest reads are
   * answered synchronously; everything else through the router's promise.
   */
  handle(request: Request): Response | Promise<Response>;
  /**
   * The websocket `/api/events/in`, for a listening server (`Bun.serve`'s `websocket` handlers and
   * the upgrade its `fetch` tries first); `App.handle` answers plain requests only.
   */
  sockets: EventSockets;
  /**
   * Writes the events still queued, then ends the query thread, if one started (the store is the
   * caller's to close, after this; a listening server closes `sockets` first).
   */
  close(): Promise<void>;
}

/**
 * `logger` receives the request lines and errors; without one (tests), only warnings and errors
 * are written.
 */
export function createApp(store: Store, config: Config, logger: Logger = warningsLogger()): App {
  let routes: RouteTable | undefined; // built on first use, once every route is registered
  const queries = store.artifacts.queries({ timeoutMs: config.queryTimeoutMs, handOffMs: config.queryThreadAfterMs });
  // Events from the websocket and `POST /api/events` reach the store through one batching writer.
  const counters = new IntakeCounters();
  const intake = new EventIntake((events, taskRuns) => store.events.append(events, taskRuns), logger, counters);
  const sockets = new EventsIn({
    intake,
    authString: config.authString,
    maxFrameBytes: config.maxBodyBytes,
    logger,
    counters,
    // An upgrade never reaches `handle`: its answer is logged and counted here, as `handle`'s are.
    answered: (method, path, status, started) => {
      const ms = performance.now() - started;
      metrics?.record(method, path, status, ms / 1000);
      if (logger.logsRequests) logger.request(method, path, status, ms);
    },
  });

  // The swagger plugin generates the document (at `/docs/json`); Prefect's two URLs serve it
  // from one copy, fetched from the plugin's route on first use.
  const openApi = new OpenApiDocuments(async () => {
    const response = await elysia.handle(new Request('http://localhost/docs/json'));
    if (!response.ok) throw new Error(`the OpenAPI document answered ${response.status}`);
    return (await response.json()) as OpenApiDocument;
  });

  const elysia = new Elysia({ strictPath: true })
    // The plugin's `/docs` page loads Swagger UI from a CDN; the request wrapper answers GET
    // `/docs` first with our own page and the files it embeds (ui/docs.ts), so this route never
    // answers a GET. It stays registered for the router's 405 to other methods and 307 from
    // `/docs/`, and the plugin's `/docs/json` stays as it is.
    .use(
      swagger({
        path: '/docs',
        specPath: '/docs/json',
        provider: 'swagger-ui',
        exclude: [/^\/docs/],
        documentation: {
          info: {
            title: 'artifactd — Prefect-compatible artifact API',
            version: PREFECT_VERSION,
            description: 'The artifact routes of the Prefect 3 REST API, served from an embedded LMDB store.',
          },
          paths: extraPaths,
          components: { schemas: openApiComponents() },
        },
      }),
    )
    .onError(({ code, error, request }) => {
      if (error instanceof ApiError) return errorResponse(error);
      if (error instanceof Refusal) return errorResponse(detail(error.kind === 'conflict' ? 409 : 404, error.message));
      if (error instanceof QueryDeadlineError) {
        // What Prefect answers when a statement outruns its database timeout: clients retry 503s.
        logger.warning(`${request.method} ${pathOf(request.url)}: the query ran past --query-timeout (${config.queryTimeoutMs / 1000} s) and was stopped`);
        return serviceUnavailable();
      }
      if (error instanceof StoreUnavailableError) return storeUnavailable(request, error);
      if (code === 'NOT_FOUND') {
        routes ??= new RouteTable(elysia.routes);
        return errorResponse(routes.unmatched(request));
      }
      return failed(request, pathOf(request.url), error);
    })
    .group('/api', (api) =>
      api
        .use(rootRoutes(store, config))
        .use(artifactRoutes(store, config, queries))
        .use(flowRoutes(store, config))
        .use(flowRunRoutes(store, config))
        .use(taskRunRoutes(store, config))
        .use(deploymentRoutes(store, config))
        .use(logRoutes(store, config, counters))
        .use(eventRoutes(store, config, intake))
        .use(concurrencyLimitRoutes(config)),
    )
    // Prefect's API app's own document, paths relative to `/api`: behind auth like every `/api`
    // route. Hidden, as FastAPI's documents do not list themselves.
    .get('/api/openapi.json', ({ request }) => openApi.response('mounted', request.method === 'HEAD'), { detail: { hide: true } })
    // The root app's, paths under `/api`: a GET is answered by the request wrapper before auth
    // (see there); the route gives other methods the router's 405 and metrics a route label.
    .get('/openapi.json', ({ request }) => openApi.response('prefixed', request.method === 'HEAD'), { detail: { hide: true } });
  const metrics = config.metrics
    ? new Metrics(
        store,
        () => [...elysia.routes.map((r) => r.path), ...UI_ROUTES, ...DOCS_ROUTES, ...SOCKET_PATHS],
        () => queries.handedOff,
        counters,
        { sockets: () => sockets.open, pending: () => intake.pending },
      )
    : null;
  if (metrics) elysia.use(metricsRoutes(metrics));

  const withCors = (response: Response, origin: string) => {
    const allowed = allowOrigin(config.cors, origin);
    if (allowed !== null) response.headers.set('access-control-allow-origin', allowed);
    return response;
  };

  /** What Prefect answers a statement past its timeout or a database it cannot reach: a 503 its clients retry. */
  const serviceUnavailable = () => errorResponse(new ApiError(503, { exception_message: 'Service Unavailable' }));

  const storeUnavailable = (request: Request, error: StoreUnavailableError): Response => {
    logger.warning(`${request.method} ${pathOf(request.url)}: ${error.message}`);
    return serviceUnavailable();
  };

  /** An unexpected error: logged with its stack, answered with Prefect's 500 body. */
  const failed = (request: Request, path: string, error: unknown): Response => {
    logger.error(`${request.method} ${path} failed: ${String(error)}`, { stack: (error as Error)?.stack });
    return errorResponse(internalError());
  };

  /** Everything after the URL is settled: CORS preflight, the UI, auth, then the API. */
  const answer = (request: Request, path: string): Response | Promise<Response> => {
    // Prefect's `/api` mount matches its path with a regex whose `.` stops at a newline, so
    // any path with an encoded newline (e.g. the key "report\n" in `/{key}/latest`) is 404.
    if (/%0a/i.test(path)) return errorResponse(detail(404, 'Not Found'));
    const origin = request.headers.get('origin');
    if (request.method === 'OPTIONS' && origin !== null && request.headers.has('access-control-request-method')) {
      return preflight(config.cors, request);
    }
    // The browser UI's pages and files: before auth, since they carry no data (the page asks
    // for credentials when the API answers 401); never consulted for the API's own paths.
    if (!path.startsWith('/api') && !path.startsWith('/docs')) {
      const page = uiResponse(request, path, config.defaultLimit);
      if (page !== null) return page;
    }
    // Swagger UI's page and files, and the document it loads: before auth too, as on Prefect,
    // whose root app (`/docs`, `/openapi.json`) has no auth; only the API app (`/api/…`,
    // `/api/openapi.json` included) has. `/docs/json` and anything else under `/docs` go on.
    if (path.startsWith('/docs')) {
      const page = docsResponse(request, path);
      if (page !== null) return page;
    } else if (path === '/openapi.json' && (request.method === 'GET' || request.method === 'HEAD')) {
      const document = openApi.response('prefixed', request.method === 'HEAD');
      if (origin === null) return document;
      return document instanceof Response ? withCors(document, origin) : document.then((response) => withCors(response, origin));
    }
    const refused = (error: unknown) =>
      error instanceof ApiError ? errorResponse(error) : error instanceof StoreUnavailableError ? storeUnavailable(request, error) : failed(request, path, error);
    let reply: Response | Promise<Response>;
    try {
      // Prefect's order: the CSRF middleware wraps the app, basic auth sits on the API app.
      const csrfChecked = config.csrf.enabled ? checkCsrf(request, (client, token) => store.csrfTokens.isValid(client, token)) : undefined;
      if (csrfChecked instanceof Promise) {
        reply = csrfChecked
          .then(() => {
            if (config.authString !== null) checkBasicAuth(request, path, config.authString);
            return elysia.handle(request);
          })
          .catch(refused);
      } else {
        if (config.authString !== null) checkBasicAuth(request, path, config.authString);
        reply = (request.method === 'GET' && store.direct && directRead(store.direct, request, path)) || elysia.handle(request);
      }
    } catch (error) {
      reply = refused(error);
    }
    if (origin === null) return reply;
    return reply instanceof Response ? withCors(reply, origin) : reply.then((response) => withCors(response, origin));
  };

  // Every answer is logged and counted, the 401/403/404/preflight answered above included.
  const observe = requestObserver(logger, metrics);

  return {
    sockets,
    async close() {
      await intake.close();
      await queries.close();
    },
    // Not async: the hottest reads answer synchronously and the rest with the router's promise,
    // with no extra promise or await on the way.
    handle(incoming) {
      const started = observe === null ? 0 : performance.now();
      const url = incoming.url; // read once: on a live request each read builds the string
      let path = pathOf(url);
      let request = incoming;
      if (!isRoutable(url, path)) {
        request = withRoutableUrl(incoming, url);
        path = pathOf(request.url);
      }
      const answered = answer(request, path);
      const reply = !config.gzip ? answered : answered instanceof Response ? gzipped(request, answered) : answered.then((r) => gzipped(request, r));
      if (observe === null) return reply;
      const method = request.method;
      return reply instanceof Response
        ? observe(method, path, started, reply)
        : reply.then((response) => observe(method, path, started, response));
    },
  };
}

/**
 * HTTP/1.1 allows an empty `Host`, which leaves Bun with a relative request URL, and Elysia's
 * router assumes a host of at least four characters; it also throws on a path it cannot
 * percent-decode. The common request passes this check with a few index lookups.
 */
function isRoutable(url: string, path: string): boolean {
  const hostStart = url.startsWith('http://') ? 7 : url.startsWith('https://') ? 8 : -1;
  if (hostStart < 0) return false;
  const hostEnd = url.indexOf('/', hostStart);
  if (hostEnd - hostStart < 4) return false;
  const query = url.indexOf('?', hostStart);
  const fragment = url.indexOf('#', hostStart);
  if ((query >= 0 && query < hostEnd) || (fragment >= 0 && fragment < hostEnd)) return false;
  return !path.includes('%') || isDecodable(path);
}

/** A request the router cannot take as it is gets a placeholder host and a decodable path. */
function withRoutableUrl(request: Request, url: string): Request {
  const match = /^https?:\/\/([^/?#]*)/.exec(url);
  const rest = match ? url.slice(match[0].length) : url;
  const path = pathOf(url);
  const decodable = !path.includes('%') || isDecodable(path);
  const fixedRest = decodable ? rest : lenientPath(path) + rest.slice(rest.indexOf(path) + path.length);
  return new Request(`http://localhost${fixedRest.startsWith('/') ? fixedRest : `/${fixedRest}`}`, request);
}

function isDecodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Re-encodes path segments the router could not decode the way Starlette reads them: a `%` not
 * followed by two hex digits is a literal `%`, and bytes that are not UTF-8 become U+FFFD.
 */
function lenientPath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      if (isDecodable(segment)) return segment;
      const bytes: number[] = [];
      for (let i = 0; i < segment.length; i++) {
        const hex = segment.slice(i + 1, i + 3);
        if (segment[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
          bytes.push(parseInt(hex, 16));
          i += 2;
        } else {
          bytes.push(...Buffer.from(segment[i]));
        }
      }
      return encodeURIComponent(new TextDecoder().decode(new Uint8Array(bytes)));
    })
    .join('/');
}
