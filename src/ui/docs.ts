/**
 * The API reference at `/docs`: Swagger UI from the executable itself (docs-embedded.js, the
 * exact-pinned `swagger-ui-dist`), so the page works on a server with no internet. Prepared like
 * the browser UI's files (assets.ts) — gzipped once, ETags, every file under one version hash
 * (`/docs/<version>/…`, cached for good) — and served with a strict Content-Security-Policy: no
 * inline script, so the page's own start-up is a file too. The page loads Prefect's root
 * document, `/openapi.json` (paths under `/api`), which app.ts serves.
 */
import { assetsOf, asset, CSS, JS, versionOf, type Asset } from './assets.ts';
import { iconSvg } from './embedded.js';
import { swaggerUiBundle, swaggerUiBundleLicences, swaggerUiLicence, swaggerUiStylesheet, swaggerUiVersion } from './docs-embedded.js';
import { IMMUTABLE, reply } from './serve.ts';

/** The document Swagger UI shows: Prefect's `/docs` loads the root app's `/openapi.json`. */
export const DOCS_SPEC_URL = '/openapi.json';

const PAGE = '/docs';
const ASSET = /^\/docs\/([0-9a-f]+)\/([\w.-]+)$/;

/** The asset paths as a route template, for the metrics' `route` label (`/docs` is the router's). */
export const DOCS_ROUTES = ['/docs/:version/:file'];

/**
 * Swagger UI needs what the artifact browser's policy forbids in only two places: `data:` images
 * (its stylesheet's icons) and the fetches "Try it out" makes, which stay on this origin.
 */
const DOCS_SECURITY: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The start-up script. `validatorUrl: null`: Swagger UI would otherwise show a badge image from
 * validator.swagger.io for any document not on localhost.
 */
const INIT = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(DOCS_SPEC_URL)},
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
});
`;

/** The page's own few rules: no margin, and the dark scheme the Elysia plugin's page had. */
const STYLE = `body { margin: 0; }
@media (prefers-color-scheme: dark) {
  body { background-color: #222; }
  .swagger-ui { filter: invert(92%) hue-rotate(180deg); }
  .swagger-ui .microlight { filter: invert(100%) hue-rotate(180deg); }
}
`;

/** A stylesheet's trailing source-map comment (the map is not served). */
const withoutSourceMap = (text: string) => text.replace(/\s*\/\*# sourceMappingURL=[^*]*\*\/\s*$/, '\n');

function pageHtml(version: string): string {
  const base = `/docs/${version}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference · artifactd</title>
<link rel="icon" type="image/svg+xml" href="${base}/icon.svg">
<link rel="stylesheet" href="${base}/swagger-ui.css">
<link rel="stylesheet" href="${base}/docs.css">
<script defer src="${base}/swagger-ui-bundle.js"></script>
<script defer src="${base}/docs.js"></script>
</head>
<body>
<div id="swagger-ui"></div>
<noscript><p>This page needs JavaScript. The OpenAPI document is at <a href="${DOCS_SPEC_URL}">${DOCS_SPEC_URL}</a>.</p></noscript>
</body>
</html>
`;
}

export interface DocsAssets {
  /** Hash of every file; they live under `/docs/<version>/`. */
  version: string;
  /** Swagger UI's release, from swagger-ui-dist's package.json. */
  swaggerUi: string;
  files: Map<string, Asset>;
  page: Asset;
}

function build(): DocsAssets {
  const text = 'text/plain; charset=utf-8';
  const texts = new Map<string, { text: string; type: string }>([
    ['swagger-ui-bundle.js', { text: swaggerUiBundle, type: JS }],
    ['swagger-ui-bundle.js.LICENSE.txt', { text: swaggerUiBundleLicences, type: text }],
    ['swagger-ui.css', { text: withoutSourceMap(swaggerUiStylesheet), type: CSS }],
    ['LICENSE.txt', { text: swaggerUiLicence, type: text }],
    ['docs.js', { text: INIT, type: JS }],
    ['docs.css', { text: STYLE, type: CSS }],
    ['icon.svg', { text: iconSvg, type: 'image/svg+xml' }],
  ]);
  const version = versionOf(texts);
  return { version, swaggerUi: swaggerUiVersion, files: assetsOf(texts), page: asset(pageHtml(version), 'text/html; charset=utf-8') };
}

let built: DocsAssets | undefined;

/** Built on first use (gzipping Swagger UI's 1.8 MB takes a moment) and kept for the process's life. */
export function docsAssets(): DocsAssets {
  built ??= build();
  return built;
}

/**
 * The answer to a GET or HEAD of `/docs` or one of its files; null for anything else (left to
 * the router: `/docs/json`, `/docs/` → 307 to `/docs`, a stale version's 404). Like the UI's,
 * these carry no data and need no credentials.
 */
export function docsResponse(request: Request, path: string): Response | null {
  if (request.method !== 'GET' && request.method !== 'HEAD') return null;
  if (path === PAGE) return reply(request, docsAssets().page, 'no-cache', DOCS_SECURITY);
  const match = ASSET.exec(path);
  if (match === null) return null;
  const assets = docsAssets();
  if (match[1] !== assets.version) return null;
  const file = assets.files.get(match[2]);
  return file ? reply(request, file, IMMUTABLE, DOCS_SECURITY) : null;
}
