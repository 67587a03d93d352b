/**
 * The API reference's server side through app.handle: the /docs page names only same-origin
 * files, under a strict Content-Security-Policy; its files are Swagger UI's own, served from
 * the embedded copy with their types, versioned and cached like the browser UI's.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { docsAssets } from '../../src/ui/docs.ts';
import { harness, type Harness } from '../helpers.ts';

let h: Harness;
afterEach(() => h.close());

const get = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
  const response = await h.app.handle(new Request(`http://127.0.0.1${path}`, { method, headers }));
  return { status: response.status, headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) };
};
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const dist = (file: string) => readFileSync(new URL(`../../node_modules/swagger-ui-dist/${file}`, import.meta.url), 'utf8');

describe('the page', () => {
  test('names only same-origin files, under a strict Content-Security-Policy', async () => {
    h = harness();
    const { version } = docsAssets();
    const reply = await get('/docs');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(reply.headers.get('cache-control')).toBe('no-cache');
    const csp = reply.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toContain('unsafe-');
    expect(csp).not.toMatch(/https?:/);
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
    const html = text(reply.bytes);
    const urls = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(3);
    for (const url of urls) {
      expect(url).toMatch(/^\/(?!\/)/); // a path on this origin, not `//host`
      expect(url).not.toMatch(/https?:/);
    }
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/<style|\bstyle=/);
    expect(urls).toEqual(
      expect.arrayContaining([`/docs/${version}/swagger-ui-bundle.js`, `/docs/${version}/swagger-ui.css`, `/docs/${version}/docs.js`]),
    );
  });

  test('needs no credentials when the API does, and neither does the document it loads (as on Prefect)', async () => {
    h = harness({ authString: 'admin:s3cret' });
    const { version } = docsAssets();
    expect((await get('/docs')).status).toBe(200);
    expect((await get(`/docs/${version}/swagger-ui-bundle.js`)).status).toBe(200);
    expect((await get('/openapi.json')).status).toBe(200);
    expect((await get('/api/openapi.json')).status).toBe(401);
    expect((await get('/docs/json')).status).toBe(401);
    expect((await get('/docs/nope')).status).toBe(401); // not the page's: the API's rules apply
  });

  test('HEAD answers without a body; other methods and /docs/ are the router\'s', async () => {
    h = harness();
    const head = await get('/docs', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.bytes.length).toBe(0);
    const post = await get('/docs', {}, 'POST');
    expect(post.status).toBe(405);
    const slash = await get('/docs/');
    expect(slash.status).toBe(307);
    expect(slash.headers.get('location')).toBe('http://127.0.0.1/docs');
  });
});

describe('the files', () => {
  test('every file the page loads is served with its type and a long cache', async () => {
    h = harness();
    const { version, files } = docsAssets();
    const html = text((await get('/docs')).bytes);
    const referenced = [...html.matchAll(/(?:src|href)="\/docs\/[0-9a-f]+\/([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(referenced)).toEqual(new Set(['icon.svg', 'swagger-ui.css', 'docs.css', 'swagger-ui-bundle.js', 'docs.js']));
    const types: Record<string, string> = {
      js: 'text/javascript; charset=utf-8',
      css: 'text/css; charset=utf-8',
      svg: 'image/svg+xml',
      txt: 'text/plain; charset=utf-8',
    };
    for (const [name] of files) {
      const reply = await get(`/docs/${version}/${name}`);
      expect(reply.status, name).toBe(200);
      expect(reply.headers.get('content-type'), name).toBe(types[name.split('.').pop()!]);
      expect(reply.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  test("they are swagger-ui-dist's, at the version package.json pins", async () => {
    h = harness();
    const { version, swaggerUi } = docsAssets();
    const pinned = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).dependencies['swagger-ui-dist'];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/); // exact, not a range
    expect(swaggerUi).toBe(pinned);
    expect(text((await get(`/docs/${version}/swagger-ui-bundle.js`)).bytes)).toBe(dist('swagger-ui-bundle.js'));
    const css = text((await get(`/docs/${version}/swagger-ui.css`)).bytes);
    expect(css).not.toContain('sourceMappingURL'); // the map is not served
    expect(css.trim()).toBe(dist('swagger-ui.css').replace(/\/\*# sourceMappingURL=[^*]*\*\/\s*$/, '').trim());
    // The third-party licences the bundle's first line points at, beside it; Swagger UI's own.
    expect(dist('swagger-ui-bundle.js')).toStartWith('/*! For license information please see swagger-ui-bundle.js.LICENSE.txt */');
    expect(text((await get(`/docs/${version}/swagger-ui-bundle.js.LICENSE.txt`)).bytes)).toBe(dist('swagger-ui-bundle.js.LICENSE.txt'));
    expect(text((await get(`/docs/${version}/LICENSE.txt`)).bytes)).toContain('Apache License');
  });

  test('the start-up script loads /openapi.json and nothing from elsewhere (no validator badge)', async () => {
    h = harness();
    const init = text((await get(`/docs/${docsAssets().version}/docs.js`)).bytes);
    expect(init).toContain('SwaggerUIBundle(');
    expect(init).toContain('url: "/openapi.json"');
    expect(init).toContain('validatorUrl: null');
    expect(init).not.toMatch(/https?:/);
  });

  test('gzip when accepted; 304 for a known ETag', async () => {
    h = harness();
    const path = `/docs/${docsAssets().version}/swagger-ui-bundle.js`;
    const plain = await get(path);
    const zipped = await get(path, { 'accept-encoding': 'gzip, br' });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.bytes.length).toBeLessThan(plain.bytes.length / 3);
    expect(text(gunzipSync(zipped.bytes))).toBe(text(plain.bytes));
    const again = await get(path, { 'if-none-match': plain.headers.get('etag')! });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
    const page = await get('/docs');
    expect((await get('/docs', { 'if-none-match': page.headers.get('etag')! })).status).toBe(304);
  });

  test("a stale version or an unknown file keeps the API's 404: the version in the path is what lets them be cached for good", async () => {
    h = harness();
    const { version } = docsAssets();
    for (const path of ['/docs/000000000000/swagger-ui-bundle.js', `/docs/${version}/nope.js`, `/docs/${version}/swagger-ui-bundle.js.map`, `/docs/${version}/`, `/docs/${version}`]) {
      const reply = await h.call('GET', path);
      expect(reply.status, path).toBe(404);
      expect(reply.body).toEqual({ detail: 'Not Found' });
    }
  });
});
