/**
 * What the browser tests share: Debian's Chromium through playwright-core (skipped with a
 * message when it is missing, a failure under CI), a real listening server on a fresh store,
 * API calls that carry credentials and CSRF tokens when the server wants them, and screenshots
 * saved to test-output/ui/ (not committed).
 */
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'bun:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/cli/serve.ts';
import { DEFAULTS, type Config } from '../../src/config.ts';
import { tempDir } from '../helpers.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Whether this file's browser tests run. Without Chromium they are skipped with a visible
 * message, except under CI, where a missing browser is a failure (`.ci/run` installs it).
 */
export function browserAvailable(file: string): boolean {
  if (hasChromium) return true;
  if (inCi) {
    test(`${file}: Chromium is installed at ${CHROMIUM}`, () => {
      throw new Error(`${CHROMIUM} is missing: the browser tests cannot run (apt-get install chromium)`);
    });
  } else {
    console.warn(`\n⚠ ${file}: browser tests SKIPPED — no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`);
  }
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page that records script errors and console errors, so a test can assert there were none. */
export async function openPage(browser: Browser, width = 1000, height = 700): Promise<Page & { errors: string[] }> {
  const page = (await browser.newPage({ viewport: { width, height } })) as Page & { errors: string[] };
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // The CSRF probe of a server with CSRF off answers 422 by design (Prefect's protocol).
    if (message.type() === 'error' && !message.text().includes('422')) page.errors.push(`console: ${message.text()}`);
  });
  return page;
}

const SHOTS = join(import.meta.dir, '..', '..', 'test-output', 'ui');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

export interface UiServer {
  url: string;
  /** JSON call to `/api…` with the server's credentials and CSRF headers as needed. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startUiServer(overrides: Partial<Config> = {}): Promise<UiServer> {
  const dir = tempDir('artifactd-ui-');
  const config: Config = { ...DEFAULTS, host: '127.0.0.1', port: 0, dataDir: dir, ...overrides };
  const running: RunningServer = startServer(config);
  const auth: Record<string, string> = config.authString ? { authorization: `Basic ${Buffer.from(config.authString).toString('base64')}` } : {};
  let csrf: Record<string, string> = {};
  if (config.csrf.enabled) {
    const client = crypto.randomUUID();
    const reply = await fetch(`${running.url}/api/csrf-token?client=${client}`, { headers: auth });
    const token = ((await reply.json()) as { token: string }).token;
    csrf = { 'prefect-csrf-token': token, 'prefect-csrf-client': client };
  }
  return {
    url: running.url,
    async api(method, path, body) {
      const response = await fetch(`${running.url}/api${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...auth, ...csrf },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small bar chart, served from a second loopback server: an http image the page may load. */
export function startImageServer(): { url: string; stop(): void } {
  const bars = [38, 62, 45, 80, 71, 90, 66]
    .map((v, i) => `<rect x="${20 + i * 52}" y="${210 - v * 2}" width="36" height="${v * 2}" rx="4" fill="#2d6cdf"/>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="230" viewBox="0 0 400 230"><rect width="400" height="230" fill="#f4f7fc"/>${bars}<line x1="10" y1="211" x2="390" y2="211" stroke="#8a94a6"/></svg>`;
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(svg, { headers: { 'content-type': 'image/svg+xml' } }) });
  return { url: `http://127.0.0.1:${server.port}/chart.svg`, stop: () => void server.stop(true) };
}
