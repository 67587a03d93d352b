/** The UI's server side through app.handle: which paths answer with the page or a file, and how. */
import { afterEach, describe, expect, test } from 'bun:test';
import { gunzipSync } from 'node:zlib';
import { uiAssets } from '../../src/ui/assets.ts';
import { harness, type Harness } from '../helpers.ts';

let h: Harness;
afterEach(() => h.close());

const get = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
  const response = await h.app.handle(new Request(`http://127.0.0.1${path}`, { method, headers }));
  return { status: response.status, headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) };
};
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('pages', () => {
  test("every route of the UI answers with the same page, under a strict Content-Security-Policy", async () => {
    h = harness();
    const { version } = uiAssets();
    for (const path of ['/', '/artifacts', '/artifacts/', '/artifacts/artifact/6f1d2c3b-8a4e-4b7a-9c11-2e5d7f9a0b12', '/artifacts/key/nightly-sales', '/runs/flow-run/1c9e7a52-3d7c-4f0e-8a43-5b2f0d6e9a10', '/artifacts?q=x&page=2']) {
      const reply = await get(path);
      expect(reply.status, path).toBe(200);
      expect(reply.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = reply.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("img-src 'self' http: https:");
      expect(csp).not.toContain('unsafe-inline');
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
      expect(reply.headers.get('cache-control')).toBe('no-cache');
      const html = text(reply.bytes);
      expect(html).toContain(`<script type="module" src="/ui/${version}/main.js"></script>`);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script anywhere
    }
  });

  test("the page carries the server's largest page size (--default-limit)", async () => {
    h = harness({ defaultLimit: 7 });
    expect(text((await get('/')).bytes)).toContain('<meta name="artifactd-max-limit" content="7">');
  });

  test('the page needs no credentials when the API does (it asks for them on a 401)', async () => {
    h = harness({ authString: 'admin:s3cret', csrf: { enabled: true, tokenExpirationSeconds: 3600 } });
    expect((await get('/')).status).toBe(200);
    expect((await get(`/ui/${uiAssets().version}/main.js`)).status).toBe(200);
    expect((await get('/api/version')).status).toBe(401);
    expect((await get('/docs/json')).status).toBe(401);
    expect((await get('/nope')).status).toBe(401); // not the UI's: the API's rules apply
  });

  test('HEAD answers like GET without a body; other methods are not the UI\'s', async () => {
    h = harness();
    const head = await get('/', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.bytes.length).toBe(0);
    const post = await h.call('POST', '/', {});
    expect(post.status).toBe(404);
    expect(post.body).toEqual({ detail: 'Not Found' });
  });
});

describe('files', () => {
  test('every file the page and the modules load is served, with its type and a long cache', async () => {
    h = harness();
    const { version, files } = uiAssets();
    const html = text((await get('/')).bytes);
    const referenced = [...html.matchAll(/(?:src|href)="\/ui\/[0-9a-f]+\/([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(referenced)).toEqual(new Set(['icon.svg', 'style.css', 'main.js']));
    const transpiler = new Bun.Transpiler({ loader: 'js' });
    for (const [name] of files) {
      const reply = await get(`/ui/${version}/${name}`);
      expect(reply.status, name).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
      const type = reply.headers.get('content-type');
      if (name.endsWith('.js')) {
        expect(type).toBe('text/javascript; charset=utf-8');
        // Every import names a file served beside it: the browser can load the whole graph.
        for (const { path } of transpiler.scanImports(text(reply.bytes))) {
          expect(path, `${name} imports ${path}`).toMatch(/^\.\/[\w.-]+\.js$/);
          expect(files.has(path.slice(2)), `${name} imports ${path}`).toBe(true);
        }
      }
      if (name.endsWith('.css')) expect(type).toBe('text/css; charset=utf-8');
      if (name.endsWith('.svg')) expect(type).toBe('image/svg+xml');
    }
    expect(files.has('main.js') && files.has('marked.js') && files.has('purify.js')).toBe(true);
  });

  test('gzip when accepted; 304 for a known ETag', async () => {
    h = harness();
    const path = `/ui/${uiAssets().version}/purify.js`;
    const plain = await get(path);
    const zipped = await get(path, { 'accept-encoding': 'gzip, br' });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.bytes.length).toBeLessThan(plain.bytes.length / 2);
    expect(text(gunzipSync(zipped.bytes))).toBe(text(plain.bytes));
    expect(text(plain.bytes)).toStartWith('/*! @license DOMPurify'); // licence kept
    const again = await get(path, { 'if-none-match': plain.headers.get('etag')! });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
  });

  test('a stale version, an unknown file or a path outside the UI keeps the API\'s 404', async () => {
    h = harness();
    const { version } = uiAssets();
    for (const path of ['/ui/000000000000/main.js', `/ui/${version}/nope.js`, `/ui/${version}/../main.js`, '/ui/', '/nope', '/artifacts/x', '/runs/flow-run/', '/favicon.ico']) {
      const reply = await h.call('GET', path);
      expect(reply.status, path).toBe(404);
      expect(reply.body).toEqual({ detail: 'Not Found' });
    }
  });

  test('the API is unaffected', async () => {
    h = harness();
    expect((await h.call('GET', '/api/health')).body).toBe(true);
    const created = await h.create({ key: 'k', type: 'markdown', data: '# x' });
    expect((await h.call('GET', `/api/artifacts/${created.id}`)).body.key).toBe('k');
    expect((await h.call('GET', '/api/artifacts/k/latest')).status).toBe(200);
    expect((await h.call('GET', '/api/nope')).status).toBe(404);
  });
});
