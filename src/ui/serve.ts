/**
 * Answers the browser UI's requests: the page at `/` and at every client-side route (the same
 * HTML; the script renders the route), and its files under `/ui/<version>/`. They carry no data,
 * so they need no credentials — the page asks for them when the API answers 401, as Prefect's
 * UI does. Anything else is left to the API's router (and its 404).
 */
import { uiAssets, type Asset } from './assets.ts';

/** The client-side routes, mirroring Prefect's UI: `/artifacts`, `/artifacts/artifact/{id}`, … */
const PAGE = /^\/(?:artifacts\/?|artifacts\/(?:artifact|key)\/[^/]+\/?|runs\/flow-run\/[^/]+\/?)?$/;
const ASSET = /^\/ui\/([0-9a-f]+)\/([\w.-]+)$/;

/**
 * The paths above as route templates in the router's syntax, for the metrics' `route` label:
 * the UI's answers are not the API router's, but they are routes, not `unmatched`.
 */
export const UI_ROUTES = ['/', '/artifacts', '/artifacts/', '/artifacts/artifact/:id', '/artifacts/key/:key', '/runs/flow-run/:id', '/ui/:version/:file'];

/**
 * Artifact content is untrusted; the page renders it sanitized, and this policy is the second
 * wall: scripts and styles only from these files (no inline script, no eval), images from
 * http(s), fetches to this origin only, no plugins, frames or form posts elsewhere.
 */
const PAGE_SECURITY: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' http: https:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Whether `path` (outside `/api` and `/docs`) belongs to the UI. */
export function isUiPath(path: string): boolean {
  return PAGE.test(path) || ASSET.test(path);
}

/**
 * The UI's answer to a GET or HEAD of one of its paths; null for anything else. `maxLimit` is
 * the server's largest page (`--default-limit`), which the page must not exceed.
 */
export function uiResponse(request: Request, path: string, maxLimit: number): Response | null {
  if (request.method !== 'GET' && request.method !== 'HEAD') return null;
  const assets = uiAssets();
  if (PAGE.test(path)) return reply(request, assets.index(maxLimit), 'no-cache');
  const match = ASSET.exec(path);
  if (match === null || match[1] !== assets.version) return null;
  const file = assets.files.get(match[2]);
  // The version in the path changes whenever any file does, so a file never changes under its URL.
  return file ? reply(request, file, IMMUTABLE) : null;
}

/** The cache of a file whose URL carries its set's version. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * One prepared file as the answer to a GET or HEAD: gzipped when the client accepts it, 304 for
 * an ETag it already has, with `security` (the page's policy) among the headers.
 */
export function reply(request: Request, asset: Asset, cacheControl: string, security: Record<string, string> = PAGE_SECURITY): Response {
  const headers: Record<string, string> = {
    ...security,
    'content-type': asset.type,
    'cache-control': cacheControl,
    etag: asset.etag,
    vary: 'Accept-Encoding',
  };
  const known = request.headers.get('if-none-match')?.split(',').map((tag) => tag.trim()) ?? [];
  if (known.includes(asset.etag)) return new Response(null, { status: 304, headers });
  const gzip = /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
  if (gzip) headers['content-encoding'] = 'gzip';
  return new Response(request.method === 'HEAD' ? null : gzip ? asset.gzipped : asset.body, { headers });
}
