/**
 * The API reference at /docs as a browser opens it on a machine with no internet: the real
 * `artifactd serve` process (the built executable when ARTIFACTD_BIN names it), every request
 * that leaves loopback aborted and recorded, and Swagger UI still renders the operations from
 * the files the process embeds.
 */
import { afterAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { tempDir } from '../helpers.ts';
import { run, startupUrl } from '../e2e/process.ts';
import { browserAvailable, launchBrowser, openPage, screenshot } from './support.ts';

const dir = tempDir('artifactd-ui-docs-');
let proc: ReturnType<typeof run> | undefined;
afterAll(async () => {
  if (proc) {
    proc.kill('SIGTERM');
    await proc.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

test.if(browserAvailable('test/ui/docs.test.ts'))(
  `${process.env.ARTIFACTD_BIN ? 'the executable' : 'artifactd serve'} renders the API reference at /docs with no network beyond loopback`,
  async () => {
    proc = run(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir]);
    const base = await startupUrl(proc);
    const browser = await launchBrowser();
    try {
      const page = await openPage(browser, 1200, 900);
      const aborted: string[] = [];
      const loaded: string[] = [];
      await page.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.hostname !== '127.0.0.1') {
          aborted.push(route.request().url());
          return route.abort('internetdisconnected');
        }
        loaded.push(url.pathname);
        return route.continue();
      });
      await page.goto(`${base}/docs`);
      // An operation Swagger UI can only draw from the document it fetched and parsed.
      const filter = page.locator('.opblock-post', { has: page.locator('.opblock-summary-path[data-path="/api/artifacts/filter"]') });
      await filter.waitFor({ timeout: 30_000 });
      await expect(filter.locator('.opblock-summary-description').textContent()).resolves.toBe('Read Artifacts');
      // Expanded, it resolves the request body's schema from the document's components.
      await filter.locator('.opblock-summary-control').click();
      await filter.locator('.opblock-body .try-out__btn').waitFor();
      const body = await filter.locator('.opblock-body').innerText();
      expect(body).toContain('\n  "artifacts": {');
      expect(body).toContain('\n  "flow_runs": {');
      await screenshot(page, 'docs');

      expect(aborted).toEqual([]);
      expect(page.errors).toEqual([]);
      expect(loaded).toContain('/openapi.json');
      expect(loaded.filter((path) => path.startsWith('/docs/')).map((path) => path.replace(/^\/docs\/[0-9a-f]+\//, ''))).toEqual(
        expect.arrayContaining(['swagger-ui-bundle.js', 'swagger-ui.css', 'docs.js']),
      );
    } finally {
      await browser.close();
    }
  },
  60_000,
);
