/**
 * Artifact content is untrusted: in Chromium, a markdown artifact (and a description, a table,
 * metadata and an image URL) carrying scripts, event handlers and javascript: URLs runs
 * nothing — the sanitizer removes them, and the page's CSP would block what slipped through.
 * And the pages work when the server has basic auth and CSRF protection on.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Browser, Request as PwRequest } from 'playwright-core';
import { browserAvailable, launchBrowser, openPage, screenshot, startUiServer, type UiServer } from './support.ts';

// The page.evaluate callbacks run in the page: its globals, declared for this file only (the
// test program has no DOM library).
declare const document: any, window: any, getComputedStyle: any;

const run = browserAvailable('test/ui/safety.test.ts');

// Blank lines between the probes: an HTML block runs to the next blank line, which would
// otherwise swallow the markdown links.
const HOSTILE_MARKDOWN = `# Probe

<script>window.__pwned = 'script'</script>

<img src="x" onerror="window.__pwned = 'onerror'">

<img src="javascript:window.__pwned='img-src'">

[click me](javascript:window.__pwned='markdown-link')

<a href="javascript:window.__pwned='raw-link'" id="raw-link">raw link</a>

<a href="JaVaScRiPt&colon;window.__pwned='encoded-link'">encoded link</a>

<a href="data:text/html,<script>alert(1)</script>">data link</a>

<iframe src="javascript:window.__pwned='iframe'"></iframe>

<svg onload="window.__pwned='svg'"><script>window.__pwned='svg-script'</script></svg>

<details open ontoggle="window.__pwned='ontoggle'"><summary>details</summary>x</details>

<form action="javascript:window.__pwned='form'"><button formaction="javascript:window.__pwned='button'">go</button></form>

<div style="background-image:url(javascript:window.__pwned='style')">styled</div>

<object data="javascript:window.__pwned='object'"></object>

<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned='mxss'"></style></mglyph></table></mtext></math>

[a fine link](https://example.com/ok)
`;

describe.if(run)('untrusted content runs nothing', () => {
  let server: UiServer;
  let browser: Browser;
  let ids: Record<string, string>;

  beforeAll(async () => {
    server = await startUiServer();
    const create = async (artifact: Record<string, unknown>) => (await server.api('POST', '/artifacts/', artifact)).body.id as string;
    ids = {
      markdown: await create({
        key: 'xss-probe',
        type: 'markdown',
        data: HOSTILE_MARKDOWN,
        description: `<img src=x onerror="window.__pwned='description'"> **still bold** [js](javascript:window.__pwned='description-link')`,
        metadata_: { note: `<script>window.__pwned='metadata'</script>` },
      }),
      link: await create({ key: 'xss-link', type: 'link', data: `[open](javascript:window.__pwned='link-artifact')` }),
      table: await create({ key: 'xss-table', type: 'table', data: JSON.stringify([{ cell: `<img src=x onerror="window.__pwned='table'">` }]) }),
      image: await create({ key: 'xss-image', type: 'image', data: `javascript:window.__pwned='image'` }),
    };
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** Opens an artifact with CSP violations recorded, and gives failed loads and handlers time to fire. */
  async function open(id: string) {
    const page = await openPage(browser);
    await page.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e: any) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`${server.url}/artifacts/artifact/${id}`);
    await page.locator('[data-testid=content]').waitFor();
    await page.waitForTimeout(300);
    return page;
  }

  /** What the sanitizer must have removed from the rendered page. */
  const leftovers = (page: Awaited<ReturnType<typeof open>>) =>
    page.evaluate(() => {
      const app = document.getElementById('app')!;
      const found: string[] = [];
      for (const el of app.querySelectorAll('*')) {
        for (const attr of el.attributes) {
          if (/^on/i.test(attr.name)) found.push(`${el.tagName} ${attr.name}`);
          if (attr.name === 'style') found.push(`${el.tagName} style`);
        }
        const url = el.getAttribute('href') ?? el.getAttribute('src') ?? el.getAttribute('action') ?? el.getAttribute('data');
        if (url !== null && !/^(https?:|mailto:|\/|x$)/i.test(url)) found.push(`${el.tagName} url ${url}`);
      }
      for (const el of app.querySelectorAll('script, iframe, object, embed, form, svg, math, style, button[formaction]')) found.push(`element ${el.tagName}`);
      return found;
    });

  test('a markdown artifact with script, event handlers and javascript: links', async () => {
    const page = await open(ids.markdown);
    try {
      const content = page.locator('[data-testid=content]');
      expect(await content.locator('h1').textContent()).toBe('Probe'); // the harmless part renders
      expect(await content.locator('a', { hasText: 'a fine link' }).getAttribute('href')).toBe('https://example.com/ok');
      expect(await page.locator('[data-testid=description] strong').textContent()).toBe('still bold');
      expect(await page.locator('table.metadata td').textContent()).toBe(`<script>window.__pwned='metadata'</script>`); // text, not markup
      expect(await leftovers(page)).toEqual([]);
      // Clicking what were javascript: links does nothing.
      await content.locator('a', { hasText: 'click me' }).click();
      await content.locator('#raw-link, a:has-text("raw link")').first().click();
      await page.locator('[data-testid=description] a', { hasText: 'js' }).click();
      await page.waitForTimeout(100);
      expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
      expect(page.url()).toEndWith(`/artifacts/artifact/${ids.markdown}`);
      // (Chromium reports CSP violations for the handlers while DOMPurify parses the HTML in an
      // inert document; none of them is from a script or a load: both walls held.)
      const violations: string[] = await page.evaluate(() => window.__violations);
      expect(violations.filter((v) => !/^(script-src-attr|style-src-attr|style-src-elem) inline$/.test(v))).toEqual([]);
      expect(page.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
      await screenshot(page, 'xss-probe');
    } finally {
      await page.close();
    }
  });

  test('link, table and image artifacts with hostile data', async () => {
    for (const id of [ids.link, ids.table, ids.image]) {
      const page = await open(id);
      try {
        expect(await leftovers(page)).toEqual([]);
        if (id === ids.link) {
          await page.locator('[data-render=link] a').click();
          expect(page.url()).toEndWith(`/artifacts/artifact/${id}`);
        }
        if (id === ids.table) expect(await page.locator('[data-render=table] td').textContent()).toBe(`<img src=x onerror="window.__pwned='table'">`);
        if (id === ids.image) {
          expect(await page.locator('[data-render=image-refused]').isVisible()).toBe(true);
          expect(await page.locator('#app img').count()).toBe(0);
        }
        expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
        expect(await page.evaluate(() => window.__violations)).toEqual([]);
      } finally {
        await page.close();
      }
    }
  });

  test('the CSP is a second wall: injected inline handlers and scripts are blocked', async () => {
    const page = await open(ids.link);
    try {
      await page.evaluate(() => {
        const div = document.createElement('div');
        div.innerHTML = `<img src="x-missing" onerror="window.__pwned='csp'">`;
        document.body.append(div);
        const script = document.createElement('script');
        script.textContent = "window.__pwned = 'inline'";
        document.body.append(script);
      });
      await page.waitForTimeout(300);
      expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
      const violations: string[] = await page.evaluate(() => window.__violations);
      expect(violations.some((v) => v.startsWith('script-src'))).toBe(true);
    } finally {
      await page.close();
    }
  });
});

describe.if(run)('with basic auth and CSRF protection on', () => {
  let server: UiServer;
  let browser: Browser;
  let id: string;

  beforeAll(async () => {
    server = await startUiServer({ authString: 'admin:s3cret', csrf: { enabled: true, tokenExpirationSeconds: 3600 } });
    id = (await server.api('POST', '/artifacts/', { key: 'guarded', type: 'markdown', data: '# Guarded report' })).body.id;
    await server.api('POST', '/artifacts/', { key: 'other', type: 'progress', data: 10 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the page asks for credentials, keeps them, and deletes with a CSRF token', async () => {
    const page = await openPage(browser);
    const apiCalls: PwRequest[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/')) apiCalls.push(r);
    });
    try {
      await page.goto(`${server.url}/`);
      await page.locator('form.sign-in').waitFor();
      await screenshot(page, 'sign-in');
      await page.fill('input[name=username]', 'admin');
      await page.fill('input[name=password]', 'wrong');
      await page.click('form.sign-in button[type=submit]');
      await page.locator('form.sign-in .error', { hasText: 'Those credentials were refused.' }).waitFor();

      await page.fill('input[name=password]', 's3cret');
      await page.click('form.sign-in button[type=submit]');
      await page.locator('table.artifacts tbody tr').first().waitFor();
      expect(await page.locator('[data-testid=count]').textContent()).toBe('2 keys');

      // Kept across a reload (localStorage), as Prefect's UI keeps them.
      await page.reload();
      await page.locator('table.artifacts tbody tr').first().waitFor();
      expect(await page.locator('form.sign-in').count()).toBe(0);

      await page.click('tr[data-key=guarded] td.col-key a >> nth=0');
      await page.locator('[data-testid=content] h1').waitFor();
      await page.click('[data-testid=delete]');
      await page.click('[data-testid=confirm-delete]');
      await page.waitForURL('**/artifacts');
      await page.locator('table.artifacts tbody tr').first().waitFor();
      expect((await server.api('GET', `/artifacts/${id}`)).status).toBe(404);

      const deletion = apiCalls.find((r) => r.method() === 'DELETE')!;
      const headers = await deletion.allHeaders();
      expect(headers.authorization).toBe(`Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
      expect(headers['prefect-csrf-token']).toBeTruthy();
      expect(headers['prefect-csrf-client']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // One token serves the whole session: no request was refused for CSRF.
      const statuses = await Promise.all(apiCalls.map(async (r) => (await r.response())?.status()));
      expect(statuses.filter((s) => s === 403)).toEqual([]);

      await page.click('.sign-out');
      await page.locator('form.sign-in').waitFor();
      expect(page.errors.filter((e) => !e.includes('401'))).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
