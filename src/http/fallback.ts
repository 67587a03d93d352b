/**
 * What Starlette answers when no route matches exactly (`shared/spec/artifacts-api.md` §1, §3):
 * 405 with the `Allow` of the first route whose path matches, 307 to the other trailing-slash
 * form when that form has a route, otherwise 404 `{"detail": "Not Found"}`.
 */
import { ApiError, detail } from './errors.ts';

interface RoutePattern {
  method: string;
  pattern: RegExp;
}

export class RouteTable {
  private readonly patterns: RoutePattern[];

  constructor(routes: { method: string; path: string }[]) {
    this.patterns = routes
      .filter((r) => r.method !== 'ALL' && r.method !== 'OPTIONS')
      .map((r) => ({ method: r.method, pattern: toPattern(r.path) }));
  }

  /** The error for a request that matched no route. */
  unmatched(request: Request): ApiError {
    const url = new URL(request.url);
    const path = url.pathname;
    const partial = this.patterns.find((r) => r.pattern.test(path) && r.method !== request.method);
    if (partial) return detail(405, 'Method Not Allowed', { allow: partial.method });
    if (path !== '/') {
      const other = path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
      if (this.patterns.some((r) => r.pattern.test(other))) {
        url.pathname = other;
        return new ApiError(307, null, { location: url.toString() });
      }
    }
    return detail(404, 'Not Found');
  }
}

function toPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
