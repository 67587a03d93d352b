/**
 * CORS as Starlette's CORSMiddleware does it with Prefect's settings (allowed origins, methods
 * and headers; `*` by default): preflights are answered here, and simple responses get
 * `Access-Control-Allow-Origin` when the origin is allowed.
 */

export interface CorsSettings {
  origins: string[];
  methods: string[];
  headers: string[];
}

const ALL_METHODS = 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT';

function originAllowed(cors: CorsSettings, origin: string): boolean {
  return cors.origins.includes('*') || cors.origins.includes(origin);
}

/** The value of `Access-Control-Allow-Origin` for `origin`, or null when it is not allowed. */
export function allowOrigin(cors: CorsSettings, origin: string): string | null {
  if (!originAllowed(cors, origin)) return null;
  return cors.origins.includes('*') ? '*' : origin;
}

/** Answers a CORS preflight: 200 with the allowed methods and headers, or 400 when refused. */
export function preflight(cors: CorsSettings, request: Request): Response {
  const origin = request.headers.get('origin')!;
  const method = request.headers.get('access-control-request-method')!.toUpperCase();
  const requested = request.headers.get('access-control-request-headers');
  const methods = cors.methods.includes('*') ? ALL_METHODS : cors.methods.join(', ');
  const headers: Record<string, string> = { 'access-control-allow-methods': methods, 'access-control-max-age': '600', vary: 'Origin' };
  const failures: string[] = [];
  const allow = allowOrigin(cors, origin);
  if (allow) headers['access-control-allow-origin'] = allow;
  else failures.push('origin');
  if (!cors.methods.includes('*') && !cors.methods.map((m) => m.toUpperCase()).includes(method)) failures.push('method');
  if (requested) {
    const wanted = requested.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
    const allowed = cors.headers.map((h) => h.toLowerCase());
    if (!cors.headers.includes('*') && wanted.some((h) => !allowed.includes(h))) failures.push('headers');
    headers['access-control-allow-headers'] = cors.headers.includes('*') ? requested : cors.headers.join(', ');
  } else if (!cors.headers.includes('*')) {
    headers['access-control-allow-headers'] = cors.headers.join(', ');
  }
  if (failures.length > 0) return new Response(`Disallowed CORS ${failures.join(', ')}`, { status: 400, headers });
  return new Response('OK', { status: 200, headers });
}
