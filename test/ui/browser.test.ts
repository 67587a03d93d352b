/**
 * The artifact browser end to end in headless Chromium, against a real server seeded through
 * the API: the list (search, type, sort, paging, every artifact), each artifact type rendered,
 * a key's history, a flow run's artifacts, delete with confirmation, narrow and dark views.
 * Screenshots of each page go to test-output/ui/.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { seed, type Seeded } from './seed.ts';
import { browserAvailable, launchBrowser, openPage, screenshot, startImageServer, startUiServer, type UiServer } from './support.ts';

// The page.evaluate callbacks run in the page: its globals, declared for this file only (the
// test program has no DOM library).
declare const document: any, window: any, getComputedStyle: any;

const run = browserAvailable('test/ui/browser.test.ts');

describe.if(run)('the artifact browser', () => {
  let server: UiServer;
  let images: ReturnType<typeof startImageServer>;
  let browser: Browser;
  let page: Page & { errors: string[] };
  let seeded: Seeded;

  beforeAll(async () => {
    images = startImageServer();
    server = await startUiServer();
    seeded = await seed(server, images.url);
    browser = await launchBrowser();
    page = await openPage(browser);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    images?.stop();
  });

  const rowKeys = () => page.locator('table.artifacts tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
  const countText = () => page.locator('[data-testid=count]').textContent();
  // Predicates are functions, not strings: the page's CSP forbids eval, which string predicates need.
  /** Waits until the list has `n` rows (the list updates asynchronously). */
  const untilRows = (n: number) => page.waitForFunction((n) => document.querySelectorAll('table.artifacts tbody tr').length === n, n, { timeout: 5000 });
  const untilCount = (text: string) => page.waitForFunction((text) => document.querySelector('[data-testid=count]')?.textContent === text, text, { timeout: 5000 });
  const untilFirstKey = (key: string) =>
    page.waitForFunction((key) => document.querySelector('table.artifacts tbody tr')?.dataset.key === key, key, { timeout: 5000 });

  test('the list shows the latest artifact of every key, 20 per page, newest first', async () => {
    await page.goto(`${server.url}/`);
    await page.locator('table.artifacts tbody tr').first().waitFor();
    expect(await countText()).toBe('29 keys'); // 22 batch keys + 7 others
    const keys = await rowKeys();
    expect(keys.length).toBe(20);
    expect(keys[0]).toBe('nightly-sales-report'); // updated last
    const report = page.locator('tr[data-key="nightly-sales-report"]');
    expect(await report.getAttribute('data-id')).toBe(seeded.report.ids[2]); // its latest version
    expect(await report.locator('td').nth(1).textContent()).toBe('markdown');
    expect(await report.locator('td.col-desc').textContent()).toBe('Sales by region, night 29'); // first line, markers stripped
    expect(await report.locator('td.col-run a').getAttribute('href')).toBe(`/runs/flow-run/${seeded.runId}`);
    await screenshot(page, 'artifacts');
    expect(page.errors).toEqual([]);
  });

  test('paging, search by key, type filter and sort go through the API and the URL', async () => {
    await page.goto(`${server.url}/artifacts`);
    await page.locator('table.artifacts tbody tr').first().waitFor();
    await page.click('[data-page=next]');
    await untilRows(9);
    expect(page.url()).toEndWith('/artifacts?page=2');
    expect(await page.locator('.pager').textContent()).toContain('Page 2 of 2');
    await page.click('[data-page=prev]');
    await untilRows(20);
    // A page past the end (an old link) shows the last page instead.
    await page.goto(`${server.url}/artifacts?page=99`);
    await untilRows(9);
    expect(page.url()).toEndWith('/artifacts?page=2');
    expect(await page.locator('.pager').textContent()).toContain('Page 2 of 2');

    await page.fill('input[name=q]', 'batch-1');
    await untilCount('10 keys');
    expect((await rowKeys()).every((k) => k!.startsWith('batch-1'))).toBe(true);
    expect(page.url()).toContain('q=batch-1');

    await page.fill('input[name=q]', '');
    await page.selectOption('select[name=type]', 'table');
    await untilCount('2 keys');
    expect(new Set(await rowKeys())).toEqual(new Set(['regional-totals', 'warehouse-stock']));

    await page.selectOption('select[name=type]', '');
    await page.selectOption('select[name=sort]', 'KEY_ASC');
    await untilFirstKey('batch-01');
    expect((await rowKeys()).slice(0, 3)).toEqual(['batch-01', 'batch-02', 'batch-03']);

    // The URL holds the state: a reload shows the same view.
    await page.reload();
    await page.locator('table.artifacts tbody tr').first().waitFor();
    expect(await page.locator('select[name=sort]').inputValue()).toBe('KEY_ASC');
    expect((await rowKeys())[0]).toBe('batch-01');
    expect(page.errors).toEqual([]);
  });

  test('a type outside the usual ones in the URL shows in the type select, not "All types"', async () => {
    await page.goto(`${server.url}/artifacts?type=my-report`);
    await untilCount('0 keys');
    expect(await page.locator('select[name=type]').inputValue()).toBe('my-report');
    await page.selectOption('select[name=type]', '');
    await untilCount('29 keys');
    expect(page.errors).toEqual([]);
  });

  test('the toggle lists every artifact, versions and unkeyed ones included', async () => {
    await page.goto(`${server.url}/artifacts`);
    await page.locator('table.artifacts tbody tr').first().waitFor();
    await page.check('input[name=all]');
    await untilCount('32 artifacts');
    const unkeyed = page.locator(`tr[data-id="${seeded.unkeyed}"]`);
    expect(await unkeyed.locator('td.col-key').textContent()).toBe(`${seeded.unkeyed.slice(-8)} no key`);
    expect(await page.locator('tr[data-key="nightly-sales-report"]').count()).toBe(3);
    expect(page.url()).toContain('all=1');
  });

  test('a markdown artifact: headings, lists, code, links, tables; description and metadata', async () => {
    await page.goto(`${server.url}/artifacts`);
    await page.click('tr[data-key="nightly-sales-report"] td.col-key a >> nth=0');
    await page.locator('[data-testid=content] .markdown').waitFor();
    expect(page.url()).toEndWith(`/artifacts/artifact/${seeded.report.ids[2]}`);
    const content = page.locator('[data-testid=content]');
    expect(await content.locator('h1').textContent()).toBe('Nightly sales — day 29');
    expect(await content.locator('h2').textContent()).toBe('Highlights');
    expect(await content.locator('ul li').count()).toBe(3);
    expect(await content.locator('table td').allTextContents()).toEqual(['north', '212', '19,080', 'south', '180', '15,300']);
    expect(await content.locator('pre code').textContent()).toContain('group by region');
    const link = content.locator('a', { hasText: 'dashboard' });
    expect(await link.getAttribute('href')).toBe('https://grafana.example.com/d/sales');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await page.locator('[data-testid=description] strong').textContent()).toBe('night 29');
    expect(await page.locator('[data-testid=latest]').isVisible()).toBe(true);
    expect(await page.locator('table.metadata').textContent()).toContain('sales-ops');
    expect(await page.locator('[data-testid=flow-run-id]').textContent()).toBe(seeded.runId);
    await screenshot(page, 'artifact-markdown');

    // An older version is not marked latest and points at the latest one.
    await page.goto(`${server.url}/artifacts/artifact/${seeded.report.ids[0]}`);
    await page.locator('[data-testid=content] h1').waitFor();
    expect(await page.locator('[data-testid=latest]').count()).toBe(0);
    expect(await page.locator('a', { hasText: 'Go to the latest version' }).getAttribute('href')).toBe(`/artifacts/artifact/${seeded.report.ids[2]}`);
    expect(page.errors).toEqual([]);
  });

  test('tables: a JSON list of rows and a dict of columns', async () => {
    await page.goto(`${server.url}/artifacts/artifact/${seeded.rowsTable}`);
    const table = page.locator('[data-render=table] table');
    await table.waitFor();
    expect(await table.locator('th').allTextContents()).toEqual(['region', 'orders', 'revenue', 'manager']);
    expect(await table.locator('tbody tr').nth(1).locator('td').allTextContents()).toEqual(['south', '180', '15300', 'Grace Hopper']);
    expect(await table.locator('tbody tr').nth(2).locator('td').nth(3).textContent()).toBe(''); // null
    await page.fill('[data-render=table] input[type=search]', 'hopper');
    expect(await table.locator('tbody tr:visible').count()).toBe(1);
    await page.fill('[data-render=table] input[type=search]', '');
    await page.locator('[data-render=table] input[type=search]').blur();
    expect(await table.locator('tbody tr:visible').count()).toBe(4);
    await screenshot(page, 'artifact-table');

    await page.goto(`${server.url}/artifacts/artifact/${seeded.columnsTable}`);
    await page.locator('[data-render=table] table').waitFor();
    expect(await page.locator('[data-render=table] th').allTextContents()).toEqual(['sku', 'item', 'on_hand', 'reorder']);
    expect(await page.locator('[data-render=table] tbody tr').nth(1).locator('td').allTextContents()).toEqual(['B-220', 'Brackets', '85', 'true']);
    expect(page.errors).toEqual([]);
  });

  test('progress is a bar as wide as its percentage', async () => {
    await page.goto(`${server.url}/artifacts/artifact/${seeded.progress}`);
    const bar = page.locator('[data-render=progress] .progress');
    await bar.waitFor();
    const outer = (await bar.boundingBox())!;
    const inner = (await bar.locator('.progress-fill').boundingBox())!;
    expect(inner.width / outer.width).toBeCloseTo(0.425, 1);
    expect(await bar.getAttribute('aria-valuenow')).toBe('42.5');
    expect(await page.locator('.progress-label').textContent()).toBe('42.5% complete');
    await screenshot(page, 'artifact-progress');
  });

  test('progress beyond 0–100 fills the bar to its end but labels the real value', async () => {
    const over = await server.api('POST', '/artifacts/', { key: 'overrun', type: 'progress', data: 250 });
    await page.goto(`${server.url}/artifacts/artifact/${over.body.id}`);
    const bar = page.locator('[data-render=progress] .progress');
    await bar.waitFor();
    const outer = (await bar.boundingBox())!;
    const inner = (await bar.locator('.progress-fill').boundingBox())!;
    expect(inner.width / outer.width).toBeCloseTo(1, 2);
    expect(await page.locator('.progress-label').textContent()).toBe('250% complete');
    await server.api('DELETE', `/artifacts/${over.body.id}`);
  });

  test('an image loads from its http URL; a link renders as a link; other types as JSON', async () => {
    await page.goto(`${server.url}/artifacts/artifact/${seeded.image}`);
    const img = page.locator('[data-render=image] img');
    await img.waitFor();
    expect(await img.getAttribute('src')).toBe(images.url);
    await page.waitForFunction(() => document.querySelector('[data-render=image] img').naturalWidth > 0);
    await screenshot(page, 'artifact-image');

    await page.goto(`${server.url}/artifacts/artifact/${seeded.link}`);
    const a = page.locator('[data-render=link] a');
    await a.waitFor();
    expect(await a.textContent()).toBe('Sales dashboard');
    expect(await a.getAttribute('href')).toBe('https://grafana.example.com/d/sales');

    await page.goto(`${server.url}/artifacts/artifact/${seeded.result}`);
    const pre = page.locator('pre[data-render=json]');
    await pre.waitFor();
    expect(JSON.parse((await pre.textContent())!)).toEqual({ accuracy: 0.931, f1: 0.904, confusion: [[812, 41], [37, 610]] });
    expect(page.errors).toEqual([]);
  });

  test("a key's history: every version newest first, the latest marked, each openable", async () => {
    await page.goto(`${server.url}/artifacts/key/nightly-sales-report`);
    const items = page.locator('[data-testid=versions] li');
    await items.first().waitFor();
    expect(await items.evaluateAll((li) => li.map((l) => l.getAttribute('data-id')))).toEqual([...seeded.report.ids].reverse());
    expect(await items.first().getAttribute('class')).toBe('latest');
    expect(await items.nth(1).getAttribute('class')).toBeNull();
    expect(await page.locator('.key-page .content h1').textContent()).toBe('Nightly sales — day 29'); // the latest, rendered
    await screenshot(page, 'key-history');
    await items.nth(2).locator('a').first().click();
    await page.waitForURL(`**/artifacts/artifact/${seeded.report.ids[0]}`);
    expect(await page.locator('[data-testid=content] h1').textContent()).toBe('Nightly sales — day 27');
  });

  test("a flow run's artifacts, reached from an artifact's flow run id", async () => {
    await page.goto(`${server.url}/artifacts/artifact/${seeded.rowsTable}`);
    await page.click('[data-testid=flow-run-id]');
    await page.waitForURL(`**/runs/flow-run/${seeded.runId}`);
    await page.locator('.run-page table.artifacts tbody tr').first().waitFor();
    expect(await page.locator('.run-page h1').textContent()).toBe('Flow run brave-otter');
    expect(await page.locator('.run-page .badge').first().textContent()).toBe('Completed');
    const ids = await page.locator('.run-page table.artifacts tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    expect(new Set(ids)).toEqual(new Set([...seeded.report.ids, seeded.rowsTable, seeded.progress, seeded.image, seeded.unkeyed]));
    await screenshot(page, 'flow-run');
    expect(page.errors).toEqual([]);
  });

  test('delete asks first; cancel keeps the artifact, confirm deletes it and shows the history', async () => {
    const latest = seeded.report.ids[2];
    await page.goto(`${server.url}/artifacts`);
    await page.goto(`${server.url}/artifacts/artifact/${latest}`);
    await page.click('[data-testid=delete]');
    const dialog = page.locator('dialog.confirm');
    expect(await dialog.isVisible()).toBe(true);
    await screenshot(page, 'delete-confirm');
    await dialog.locator('button', { hasText: 'Cancel' }).click();
    expect(await dialog.isVisible()).toBe(false);
    expect((await server.api('GET', `/artifacts/${latest}`)).status).toBe(200);

    await page.click('[data-testid=delete]');
    await page.click('[data-testid=confirm-delete]');
    await page.waitForURL('**/artifacts/key/nightly-sales-report');
    await page.locator('[data-testid=versions] li').first().waitFor();
    expect((await server.api('GET', `/artifacts/${latest}`)).status).toBe(404);
    // The previous version is the latest now.
    const items = page.locator('[data-testid=versions] li');
    expect(await items.count()).toBe(2);
    expect(await items.first().getAttribute('data-id')).toBe(seeded.report.ids[1]);
    expect(await items.first().getAttribute('class')).toBe('latest');
    // The deleted page was replaced in the history: Back leads to the page before it.
    await page.goBack();
    expect(page.url()).toBe(`${server.url}/artifacts`);
    expect(page.errors).toEqual([]);
  });

  test('a missing artifact or key, or a malformed id, shows "not found", not an error', async () => {
    await page.goto(`${server.url}/artifacts/artifact/00000000-0000-4000-8000-000000000000`);
    await page.locator('h1', { hasText: 'Not found' }).waitFor();
    await page.goto(`${server.url}/artifacts/artifact/not-a-uuid`);
    await page.locator('h1', { hasText: 'Not found' }).waitFor();
    await page.goto(`${server.url}/artifacts/artifact/%E0%A4%A`); // a malformed escape
    await page.locator('h1', { hasText: 'Not found' }).waitFor();
    await page.goto(`${server.url}/artifacts/key/no-such-key`);
    await page.locator('.notice', { hasText: 'No artifact has this key' }).waitFor();
    // (The browser logs the API's 404s; no script failed.)
    expect(page.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });

  test('a narrow window (400 px) has no horizontal scroll; dark scheme follows the system', async () => {
    const narrow = await openPage(browser, 400, 760);
    try {
      await narrow.goto(`${server.url}/artifacts`);
      await narrow.locator('table.artifacts tbody tr').first().waitFor();
      expect(await narrow.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
      expect(await narrow.locator('table.artifacts th.col-desc').isVisible()).toBe(false);
      await screenshot(narrow, 'artifacts-narrow');
      await narrow.goto(`${server.url}/artifacts/artifact/${seeded.rowsTable}`);
      await narrow.locator('[data-render=table] table').waitFor();
      expect(await narrow.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
      await screenshot(narrow, 'artifact-table-narrow');
    } finally {
      await narrow.close();
    }
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.goto(`${server.url}/artifacts/artifact/${seeded.report.ids[1]}`);
    await page.locator('[data-testid=content] h1').waitFor();
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await background()).not.toBe(light);
    await screenshot(page, 'artifact-markdown-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });
});

describe.if(run)('a server with small pages (--default-limit 5)', () => {
  let server: UiServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startUiServer({ defaultLimit: 5 });
    for (let i = 1; i <= 7; i++) await server.api('POST', '/artifacts/', { key: 'small', type: 'progress', data: i * 10 });
    for (let i = 1; i <= 6; i++) await server.api('POST', '/artifacts/', { key: `key-${i}`, type: 'progress', data: i });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the list and the history ask for no more than the server allows', async () => {
    const page = await openPage(browser);
    try {
      await page.goto(`${server.url}/artifacts`);
      await page.locator('table.artifacts tbody tr').first().waitFor();
      expect(await page.locator('table.artifacts tbody tr').count()).toBe(5);
      expect(await page.locator('.pager').textContent()).toContain('Page 1 of 2');
      await page.goto(`${server.url}/artifacts/key/small`);
      const items = page.locator('[data-testid=versions] li');
      await items.first().waitFor();
      expect(await items.count()).toBe(5);
      await page.click('.history > button');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=versions] li').length === 7);
      expect(await page.locator('.history > button').isHidden()).toBe(true);
      expect(page.errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
