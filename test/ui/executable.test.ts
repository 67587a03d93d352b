/**
 * The page as a user opens it: the real `artifactd serve` process (the built executable when
 * ARTIFACTD_BIN names it, as in CI, else src/main.ts as `npm start` runs it), every script and
 * style from the process itself, no network beyond loopback.
 */
import { afterAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { tempDir } from '../helpers.ts';
import { run, startupUrl } from '../e2e/process.ts';
import { browserAvailable, launchBrowser, openPage } from './support.ts';

const dir = tempDir('artifactd-ui-exe-');
let proc: ReturnType<typeof run> | undefined;
afterAll(async () => {
  if (proc) {
    proc.kill('SIGTERM');
    await proc.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

test.if(browserAvailable('test/ui/executable.test.ts'))(
  `${process.env.ARTIFACTD_BIN ? 'the executable' : 'artifactd serve'} shows the artifacts at /, loading nothing from elsewhere`,
  async () => {
    proc = run(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir]);
    const base = await startupUrl(proc);
    await fetch(`${base}/api/artifacts/`, { method: 'POST', body: JSON.stringify({ key: 'hello', type: 'markdown', data: '# Hello from the binary' }) });
    const browser = await launchBrowser();
    try {
      const page = await openPage(browser);
      const origins = new Set<string>();
      page.on('request', (r) => origins.add(new URL(r.url()).origin));
      await page.goto(`${base}/`);
      await page.locator('tr[data-key=hello] a').first().click();
      await page.locator('[data-testid=content] h1', { hasText: 'Hello from the binary' }).waitFor();
      expect([...origins]).toEqual([base]);
      expect(page.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  },
  30_000,
);
