/**
 * The browser UI's files, prepared once per process: TypeScript modules transpiled to
 * JavaScript, import specifiers pointed at the files served beside them, whitespace minified,
 * gzipped, and everything named under one version hash, so a page always loads one consistent
 * set of files and browsers may cache them for good.
 */
import { createHash } from 'node:crypto';
import { clientModules, iconSvg, stylesheet, vendorModules } from './embedded.js';

export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  gzipped: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

export interface AssetSet {
  /** Hash of every file; assets live under `/ui/<version>/`. */
  version: string;
  /** By file name, e.g. `main.js`, `marked.js`, `style.css`. */
  files: Map<string, Asset>;
  /** The one HTML page every UI route answers with, for a server whose largest page is `maxLimit`. */
  index(maxLimit: number): Asset;
}

export const JS = 'text/javascript; charset=utf-8';
export const CSS = 'text/css; charset=utf-8';

/** Served names of the vendor modules, by the bare specifier the client imports. */
const VENDOR_FILES: Record<keyof typeof vendorModules, string> = { marked: 'marked.js', dompurify: 'purify.js' };

const jsName = (tsName: string) => tsName.replace(/\.ts$/, '.js');

/**
 * Points each import of a transpiled module at a served file (`./x.ts` → `./x.js`, `marked` →
 * `./marked.js`) and refuses any other, so a typo fails loudly on the first request for the UI
 * (and in test/ui/server.test.ts), not silently in a browser.
 */
function linkImports(name: string, code: string): string {
  const transpiler = new Bun.Transpiler({ loader: 'js' });
  const known = new Set(Object.keys(clientModules).map((m) => `./${m}`));
  for (const { path } of transpiler.scanImports(code)) {
    if (!known.has(path) && !(path in VENDOR_FILES)) throw new Error(`ui: ${name} imports ${path}, which is not served`);
  }
  return code.replace(/(\bfrom\s*|\bimport\s*)"([^"]+)"/g, (whole, keyword: string, path: string) => {
    if (known.has(path)) return `${keyword}"${jsName(path)}"`;
    if (path in VENDOR_FILES) return `${keyword}"./${VENDOR_FILES[path as keyof typeof VENDOR_FILES]}"`;
    return whole;
  });
}

/** Keeps a library's leading licence comment, which the minifier drops. */
function licenceOf(source: string): string {
  const match = /^\s*(\/\*[\s\S]*?\*\/)/.exec(source);
  return match ? `${match[1]}\n` : '';
}

const encoder = new TextEncoder();

/** One served file: its bytes, gzipped once, and an ETag of its content. */
export function asset(text: string, type: string): Asset {
  const body = encoder.encode(text);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { body, gzipped: Bun.gzipSync(body, { level: 9 }), type, etag };
}

/**
 * The version in a set of files' URLs: a hash of every file's name and text, so it changes
 * whenever any file does and a file never changes under its URL.
 */
export function versionOf(texts: Map<string, { text: string }>): string {
  const hash = createHash('sha256');
  for (const [name, { text }] of [...texts].sort(([a], [b]) => a.localeCompare(b))) hash.update(name).update('\0').update(text).update('\0');
  return hash.digest('hex').slice(0, 12);
}

/** Every file of a set, prepared for serving. */
export function assetsOf(texts: Map<string, { text: string; type: string }>): Map<string, Asset> {
  return new Map([...texts].map(([name, { text, type }]) => [name, asset(text, type)]));
}

function indexHtml(version: string, maxLimit: number): string {
  const base = `/ui/${version}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="artifactd-max-limit" content="${maxLimit}">
<title>Artifacts · artifactd</title>
<link rel="icon" type="image/svg+xml" href="${base}/icon.svg">
<link rel="stylesheet" href="${base}/style.css">
<script type="module" src="${base}/main.js"></script>
</head>
<body>
<header class="topbar"><a class="brand" href="/artifacts"><img src="${base}/icon.svg" alt="" width="22" height="22">artifactd</a><nav><a href="/artifacts">Artifacts</a></nav></header>
<main id="app" aria-live="polite"><p class="muted">Loading…</p></main>
<noscript><p class="notice">This page needs JavaScript. The API is at <a href="/api">/api</a>.</p></noscript>
</body>
</html>
`;
}

function build(): AssetSet {
  const texts = new Map<string, { text: string; type: string }>();
  const ts = new Bun.Transpiler({ loader: 'ts', minifyWhitespace: true, target: 'browser' });
  for (const [name, source] of Object.entries(clientModules)) {
    texts.set(jsName(name), { text: linkImports(name, ts.transformSync(source)), type: JS });
  }
  const js = new Bun.Transpiler({ loader: 'js', minifyWhitespace: true, target: 'browser' });
  for (const [specifier, file] of Object.entries(VENDOR_FILES)) {
    const source = vendorModules[specifier as keyof typeof vendorModules];
    texts.set(file, { text: licenceOf(source) + js.transformSync(source), type: JS });
  }
  texts.set('style.css', { text: stylesheet, type: CSS });
  texts.set('icon.svg', { text: iconSvg, type: 'image/svg+xml' });

  const version = versionOf(texts);
  const files = assetsOf(texts);
  // The page tells the script the server's largest `limit` (--default-limit), so it never asks
  // for pages the API would refuse. One page per limit; a process has one.
  const pages = new Map<number, Asset>();
  const index = (maxLimit: number) => {
    let page = pages.get(maxLimit);
    if (page === undefined) pages.set(maxLimit, (page = asset(indexHtml(version, maxLimit), 'text/html; charset=utf-8')));
    return page;
  };
  return { version, files, index };
}

let built: AssetSet | undefined;

/** The asset set, built on first use (a few milliseconds) and kept for the process's life. */
export function uiAssets(): AssetSet {
  built ??= build();
  return built;
}
