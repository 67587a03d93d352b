/**
 * Builds the HTTP application from a store and a configuration: the API under `/api`, the
 * OpenAPI document and Swagger UI under `/docs`, Prefect's error shapes for everything that
 * fails, and Prefect's CORS, CSRF and basic-auth layers as configured.
 */
import { swagger } from '@elysiajs/swagger';
import { Elysia } from 'elysia';
import { artifactRoutes } from './api/artifacts.ts';
import { deploymentRoutes } from './api/deployments.ts';
import { flowRunRoutes } from './api/flow-runs.ts';
import { flowRoutes } from './api/flows.ts';
import { taskRunRoutes } from './api/task-runs.ts';
import { extraPaths } from './api/docs.ts';
import { metricsRoutes } from './api/metrics.ts';
import { rootRoutes, PREFECT_VERSION } from './api/root.ts';
import type { Config } from './config.ts';
import { ApiError, detail, errorResponse, internalError } from './http/errors.ts';
import { checkBasicAuth } from './http/auth.ts';
import { allowOrigin, preflight } from './http/cors.ts';
import { checkCsrf } from './http/csrf.ts';
import { RouteTable } from './http/fallback.ts';
import { pathOf } from './http/path.ts';
import { consoleOutput, createLogger, type Logger } from './observe/log.ts';
import { Metrics } from './observe/metrics.ts';
import { observed, requestObserver } from './observe/observe.ts';
import { openApiComponents } from './schemas/openapi.ts';
import { Refusal } from './store/durable.ts';
import type { Store } from './store/store.ts';

export interface App {
  /** Answers one request (what `Bun.serve` calls, and what tests call). */
  handle(request: Request): Promise<Response>;
}

/**
 * `logger` receives the request lines and errors; without one (tests), only warnings and errors
 * are written.
 */
export function createApp(store: Store, config: Config, logger: Logger = createLogger({ level: 'warning', format: 'text' }, consoleOutput())): App {
  let routes: RouteTable | undefined; // built on first use, once every route is registered

  const elysia = new Elysia({ strictPath: true })
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
      if (code === 'NOT_FOUND') {
        routes ??= new RouteTable(elysia.routes);
        return errorResponse(routes.unmatched(request));
      }
      logger.error(`${request.method} ${pathOf(request.url)} failed: ${String(error)}`, { stack: (error as Error)?.stack });
      return errorResponse(internalError());
    })
    .group('/api', (api) =>
      api
        .use(rootRoutes(store, config))
        .use(artifactRoutes(store, config))
        .use(flowRoutes(store, config))
        .use(flowRunRoutes(store, config))
        .use(taskRunRoutes(store, config))
        .use(deploymentRoutes(store, config)),
    );
  const metrics = config.metrics ? new Metrics(store, config.dataDir, () => elysia.routes.map((r) => r.path)) : null;
  if (metrics) elysia.use(metricsRoutes(metrics));

  const withCors = (response: Response, origin: string) => {
    const allowed = allowOrigin(config.cors, origin);
    if (allowed !== null) response.headers.set('access-control-allow-origin', allowed);
    return response;
  };

  const app: App = {
    // Not async: the common request goes straight to the router's promise, without another
    // promise and await on the hot path.
    handle(incoming) {
      const url = incoming.url; // read once: on a live request each read builds the string
      const request = withRoutableUrl(incoming, url);
      const path = pathOf(request === incoming ? url : request.url);
      // Prefect's `/api` mount matches its path with a regex whose `.` stops at a newline, so
      // any path with an encoded newline (e.g. the key "report\n" in `/{key}/latest`) is 404.
      if (/%0a/i.test(path)) return Promise.resolve(errorResponse(detail(404, 'Not Found')));
      const origin = request.headers.get('origin');
      if (request.method === 'OPTIONS' && origin !== null && request.headers.has('access-control-request-method')) {
        return Promise.resolve(preflight(config.cors, request));
      }
      let pending: Promise<Response>;
      try {
        // Prefect's order: the CSRF middleware wraps the app, basic auth sits on the API app.
        if (config.csrf.enabled) checkCsrf(request, (client, token) => store.csrfTokens.isValid(client, token));
        if (config.authString !== null) checkBasicAuth(request, path, config.authString);
        pending = elysia.handle(request);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        pending = Promise.resolve(errorResponse(error));
      }
      return origin === null ? pending : pending.then((response) => withCors(response, origin));
    },
  };
  // Every answer is logged and counted, the 401/403/404/preflight answered above included.
  const observe = requestObserver(logger, metrics);
  return observe === null ? app : observed(app, observe);
}

/**
 * HTTP/1.1 allows an empty `Host`, which leaves Bun with a relative request URL, and Elysia's
 * router assumes a host of at least four characters. Such requests get a placeholder host so
 * they route like any other.
 */
function withRoutableUrl(request: Request, url: string): Request {
  const match = /^https?:\/\/([^/?#]*)/.exec(url);
  const rest = match ? url.slice(match[0].length) : url;
  const path = pathOf(url);
  const decodable = !path.includes('%') || isDecodable(path);
  if (match && match[1].length >= 4 && decodable) return request;
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
