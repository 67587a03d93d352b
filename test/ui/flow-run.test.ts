/**
 * The flow-run page in headless Chromium: "a user opens one page and sees what happened".
 *
 * - A real Prefect run: the 3.1.4 client's f2 traffic (flow `parent`: task `flaky` retried once,
 *   task `tagged` with tags etl and critical, sub-flow `child`, a table and a markdown artifact,
 *   log lines) replayed into a fresh server (test/e2e/replay.ts). The page shows the run, its
 *   task runs with states, durations, run counts and tags in the order they ran, its log lines
 *   newest last with their task runs, its artifacts, and the links between parent and sub-flow.
 * - A realistic FAILED run (3.8.3's f2 against an artifactd without concurrency leases).
 * - Paging on a server with small pages (--default-limit 5), seeded through the API: task runs
 *   in batches, log lines in batches ("Load earlier", "Load more"), the level filter, and log
 *   messages shown as text (markup in a message is never parsed).
 * - The empty and missing cases: no task runs, no logs, no artifacts; a run that is not stored;
 *   a server without the logs route.
 *
 * Task runs of 3.x clients exist only through their `prefect.task-run.*` events (sent over
 * `/api/events/in`), log lines through `POST /api/logs/`: the replays send both.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { loadRecording, replay, RECORDINGS_DIR, type RecordedHttp, type ReplaySummary } from '../e2e/replay.ts';
import { browserAvailable, launchBrowser, openPage, screenshot, startUiServer, type UiServer } from './support.ts';

// The page.evaluate callbacks run in the page: its globals, declared for this file only.
declare const document: any, window: any, getComputedStyle: any;

const run = browserAvailable('test/ui/flow-run.test.ts');

type TestPage = Page & { errors: string[] };

const scriptErrors = (page: TestPage) => page.errors.filter((e) => e.startsWith('pageerror'));

const rowNames = (page: Page) => page.locator('table.task-runs tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
const cellTexts = (page: Page, selector: string) => page.locator(selector).evaluateAll((cells) => cells.map((c) => c.textContent));
const F2 = `${RECORDINGS_DIR}prefect-3.1.4__prefect-3.0.0-server__f2.jsonl`;

/**
 * Replays a recording at its own pace (about a second and a half), the client's timestamps
 * moved onto our server's clock: the log lines and task runs then fall between the run's start
 * and end as our server stamps them, as they would after a real `python f2.py`.
 */
async function replayLive(path: string, baseUrl: string): Promise<ReplaySummary> {
  const recording = loadRecording(path);
  const created = recording.steps.find((s): s is RecordedHttp => s.kind === 'http' && s.method === 'POST' && s.path === '/api/flow_runs/' && typeof (s.resp_body as any)?.created === 'string');
  if (!created) return replay(recording, baseUrl, { timeShift: 'now' });
  const recordedStart = Date.parse((created.resp_body as any).created) - created.t * 1000; // the recording's t = 0
  // The replay shifts by whole seconds (keeping the fractions as recorded): start it when a
  // whole-second shift lines the two clocks up.
  const shift = Math.ceil((Date.now() - recordedStart) / 1000) * 1000;
  await Bun.sleep(Math.max(0, recordedStart + shift - Date.now()));
  return replay(recording, baseUrl, { pace: 1, timeShift: shift });
}

describe.if(run)('a flow run replayed from Prefect 3.1.4 (f2: parent, flaky, tagged, sub-flow child)', () => {
  let server: UiServer;
  let browser: Browser;
  let page: TestPage;
  let summary: ReplaySummary;
  let parent: { id: string; name: string };
  let child: { id: string; name: string };

  beforeAll(async () => {
    server = await startUiServer();
    summary = await replayLive(F2, server.url);
    const top = summary.topLevelFlowRun!;
    const sub = summary.flowRuns.find((r) => r.parentTaskRunId !== null)!;
    parent = { id: top.id, name: top.name! };
    child = { id: sub.id, name: sub.name! };
    browser = await launchBrowser();
    page = await openPage(browser, 1000, 1180);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const open = async (id: string) => {
    await page.goto(`${server.url}/runs/flow-run/${id}`);
    await page.locator('.run-page [data-testid=artifacts]').waitFor();
  };

  test('the run: name, state, flow, start, end, duration, parameters', async () => {
    await open(parent.id);
    expect(await page.locator('.run-page h1').textContent()).toBe(`Flow run ${parent.name}`);
    const badge = page.locator('.run-page .page-head .badge');
    expect(await badge.textContent()).toBe('Completed');
    expect(await badge.getAttribute('class')).toContain('state-completed');
    expect(await page.locator('[data-testid=flow-name]').textContent()).toBe('parent');
    expect(await page.locator('[data-testid=parameters]').textContent()).toBe('n = 2');
    expect(await page.locator('[data-testid=duration]').textContent()).toMatch(/^\d+(\.\d)? m?s$/);
    const facts = await page.locator('dl.facts').textContent();
    expect(facts).toContain('Started');
    expect(facts).toContain('Ended');
    expect(facts).toContain(parent.id);
    expect(await page.locator('[data-testid=parent-run]').count()).toBe(0); // a top-level run
    expect(page.errors).toEqual([]);
  });

  test("the task run that started the sub-flow links to the sub-flow's page", async () => {
    await open(parent.id);
    const row = page.locator('table.task-runs tbody tr[data-name="child-0"]');
    const link = row.locator('.subflow a');
    expect(await link.textContent()).toBe(child.name);
    expect(await link.getAttribute('href')).toBe(`/runs/flow-run/${child.id}`);
    expect(await row.locator('.badge').textContent()).toBe('Completed');
    expect(await row.locator('td.col-duration').textContent()).toMatch(/^\d+(\.\d)? m?s$/);
    expect(page.errors).toEqual([]);
  });

  test('task runs from the client\'s events, in the order they ran: states, durations, run counts, tags', async () => {
    await open(parent.id);
    const names = await rowNames(page);
    expect(names.length).toBe(3);
    expect(names[0]).toStartWith('flaky-');
    expect(names[1]).toStartWith('tagged-');
    expect(names[2]).toBe('child-0');
    expect(await page.locator('[data-testid=task-run-count]').textContent()).toBe('3 task runs');
    expect(await cellTexts(page, 'table.task-runs tbody .badge')).toEqual(['Completed', 'Completed', 'Completed']);
    for (const text of await cellTexts(page, 'table.task-runs tbody td.col-duration')) expect(text).toMatch(/^\d+(\.\d)? m?s$/);
    for (const text of await cellTexts(page, 'table.task-runs tbody td.col-started')) expect(text).toMatch(/\d\d:\d\d/);
    expect(await cellTexts(page, 'table.task-runs tbody td.col-runs')).toEqual(['2 · 1 retry', '1', '1']); // flaky raised once
    const tagged = page.locator(`table.task-runs tbody tr[data-name="${names[1]}"]`);
    expect(await tagged.locator('.tag').allTextContents()).toEqual(['etl', 'critical']);
    expect(page.errors).toEqual([]);
  });

  test('log lines newest last, with their level, time and task run', async () => {
    await open(parent.id);
    const rows = page.locator('table.logs tbody tr');
    await rows.first().waitFor();
    const messages = await cellTexts(page, 'table.logs tbody td.col-message');
    expect(messages[0]).toBe('parent starting with 2');
    expect(messages).toContain('flaky attempt 1');
    expect(messages.indexOf('flaky attempt 1')).toBeLessThan(messages.indexOf('flaky attempt 2'));
    expect(messages.indexOf('flaky attempt 2')).toBeLessThan(messages.indexOf('tagged task got 3'));
    expect(messages.at(-1)).toBe('Finished in state Completed()');
    expect(messages.at(-2)).toBe('parent done: 3 30 29');
    expect(messages).not.toContain('child flow got 30'); // the sub-flow's line is on its page
    expect(await page.locator('[data-testid=log-count]').textContent()).toBe(`${messages.length} lines`);
    expect(await cellTexts(page, 'table.logs tbody td.col-level')).toEqual(messages.map(() => 'INFO'));
    for (const time of await cellTexts(page, 'table.logs tbody td.col-time')) expect(time).toMatch(/\d\d:\d\d:\d\d\.\d{3}/);
    // Timestamps ascend: newest last.
    const stamps = await page.locator('table.logs tbody time').evaluateAll((times) => times.map((t) => Date.parse(t.getAttribute('datetime'))));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    // A task's lines name it; the flow's own lines name none.
    const tasks = await cellTexts(page, 'table.logs tbody td.col-task-run');
    expect(tasks[messages.indexOf('flaky attempt 1')]).toStartWith('flaky-');
    expect(tasks[messages.indexOf('tagged task got 3')]).toStartWith('tagged-');
    expect(tasks[0]).toBe('');
    expect(await page.locator('[data-testid=logs-earlier]').isHidden()).toBe(true);
    expect(page.errors).toEqual([]);
  });

  test('screenshot: the run, its task runs and its logs', async () => {
    await open(parent.id);
    await page.locator('table.logs tbody tr').first().waitFor();
    await screenshot(page, 'flow-run-tasks-logs');
    await page.setViewportSize({ width: 1000, height: 700 }); // the size of the README's other screenshots
    try {
      await screenshot(page, 'flow-run-replayed');
    } finally {
      await page.setViewportSize({ width: 1000, height: 1180 });
    }
  });

  test('its artifacts, as the page showed them before', async () => {
    await open(parent.id);
    const keys = await page.locator('[data-testid=artifacts] table.artifacts tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
    expect(keys.sort()).toEqual(['parent-report', 'parent-table']);
    expect(await page.locator('[data-testid=artifact-count]').textContent()).toBe('2 artifacts');
    await page.click('[data-testid=artifacts] tr[data-key=parent-table] a');
    await page.locator('[data-render=table] table').waitFor();
    expect(await page.locator('[data-render=table] th').allTextContents()).toEqual(['a', 'b', 'c']);
  });

  test('the sub-flow page links back to its parent run; each page leads to the other', async () => {
    await open(parent.id);
    await page.click('table.task-runs tr[data-name="child-0"] .subflow a');
    await page.waitForURL(`**/runs/flow-run/${child.id}`);
    await page.locator('[data-testid=parent-run]').waitFor();
    expect(await page.locator('.run-page h1').textContent()).toBe(`Flow run ${child.name}`);
    expect(await page.locator('[data-testid=flow-name]').textContent()).toBe('child');
    expect(await page.locator('[data-testid=parent-run]').textContent()).toBe(`${parent.name} (task run child-0)`);
    expect(await page.locator('[data-testid=parameters]').textContent()).toBe('y = 30');
    expect(await page.locator('[data-testid=task-runs] .empty').textContent()).toBe('This flow run has no task runs.');
    expect(await page.locator('[data-testid=artifacts] tr[data-key=child-report]').count()).toBe(1);
    // The breadcrumb goes through the parent run too.
    expect(await page.locator('.crumbs a').nth(1).getAttribute('href')).toBe(`/runs/flow-run/${parent.id}`);
    await page.locator('table.logs tbody tr').first().waitFor();
    expect(await cellTexts(page, 'table.logs tbody td.col-message')).toEqual(['child flow got 30', 'Finished in state Completed()']);
    await page.setViewportSize({ width: 1000, height: 700 });
    try {
      await screenshot(page, 'flow-run-subflow');
    } finally {
      await page.setViewportSize({ width: 1000, height: 1180 });
    }
    await page.click('[data-testid=parent-run] a');
    await page.waitForURL(`**/runs/flow-run/${parent.id}`);
    await page.locator('.run-page h1', { hasText: parent.name }).waitFor();
    expect(page.errors).toEqual([]);
  });

  test('a narrow window (400 px) has no horizontal scroll', async () => {
    const narrow = await openPage(browser, 400, 900);
    try {
      await narrow.goto(`${server.url}/runs/flow-run/${parent.id}`);
      await narrow.locator('.run-page [data-testid=artifacts]').waitFor();
      expect(await narrow.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
      await screenshot(narrow, 'flow-run-narrow');
    } finally {
      await narrow.close();
    }
  });

  test('dark scheme', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    try {
      await open(parent.id);
      await page.locator('table.logs tbody tr').first().waitFor();
      await screenshot(page, 'flow-run-dark');
    } finally {
      await page.emulateMedia({ colorScheme: 'light' });
    }
  });
});

describe.if(run)('a failed run (3.8.3 f2 against an artifactd without concurrency leases)', () => {
  let server: UiServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startUiServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the red state badge and the state's message", async () => {
    const summary = await replayLive(`${RECORDINGS_DIR}prefect-3.8.3__artifactd__f2__client-side-only.jsonl`, server.url);
    const top = summary.topLevelFlowRun!;
    expect(top.finalState?.type).toBe('FAILED');
    const page = await openPage(browser, 1000, 900);
    try {
      await page.goto(`${server.url}/runs/flow-run/${top.id}`);
      await page.locator('.run-page [data-testid=artifacts]').waitFor();
      const badge = page.locator('.run-page .page-head .badge');
      expect(await badge.textContent()).toBe('Failed');
      const colour = await badge.evaluate((b) => getComputedStyle(b).color);
      expect(colour).toBe('rgb(196, 50, 43)'); // --danger
      const message = page.locator('[data-testid=state-message]');
      expect(await message.textContent()).toContain('Unable to acquire concurrency slots');
      expect(await message.getAttribute('class')).toContain('error');
      // (That client's events were lost: the older artifactd refused /api/events/in. So no task runs.)
      expect(await page.locator('[data-testid=task-runs] .empty').textContent()).toBe('This flow run has no task runs.');
      // Its logs: the traceback, newest last, the failure at ERROR.
      await page.locator('table.logs tbody tr').first().waitFor();
      expect(await page.locator('table.logs tbody tr.level-error').count()).toBeGreaterThan(0);
      await screenshot(page, 'flow-run-failed');
      expect(page.errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

describe.if(run)('small pages (--default-limit 5), seeded through the API', () => {
  let server: UiServer;
  let browser: Browser;
  let page: TestPage;
  let runId: string;
  let lines: { message: string; level: number; timestamp: string }[];
  const taskIds: string[] = [];
  const HOSTILE = '<img src=x onerror="window.__pwned = 1"> & <b>not bold</b>';
  const TRACEBACK = 'Traceback (most recent call last):\n  File "flow.py", line 12, in load\n    raise ValueError("bad row")\nValueError: bad row';

  const post = async (path: string, body: unknown, status = 201) => {
    const reply = await server.api('POST', path, body);
    if (reply.status !== status) throw new Error(`seed ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body;
  };

  beforeAll(async () => {
    server = await startUiServer({ defaultLimit: 5 });
    const flow = await post('/flows/', { name: 'nightly-load' });
    runId = (await post('/flow_runs/', { flow_id: flow.id, name: 'busy-badger', state: { type: 'RUNNING' }, tags: ['nightly', 'warehouse'], parameters: { rows: 5000, target: 'warehouse.orders', dry_run: false } })).id;
    // Seven task runs, created in order (their expected start is their creation), in several states.
    const states = ['COMPLETED', 'COMPLETED', 'FAILED', 'CRASHED', 'RUNNING', 'PENDING', 'SCHEDULED'];
    for (const [i, type] of states.entries()) {
      const task = await post('/task_runs/', { flow_run_id: runId, task_key: `load-${i}`, dynamic_key: '0', name: `load-${i}`, state: { type }, tags: i === 2 ? ['critical'] : [] });
      taskIds.push(task.id);
    }
    // Twelve log lines, a second apart, at every level; a task's lines and the flow's own.
    const start = Date.parse('2026-12-06T20:00:00Z');
    const levels = [20, 10, 20, 30, 20, 40, 20, 20, 50, 20, 30, 20];
    lines = levels.map((level, i) => ({
      level,
      timestamp: new Date(start + i * 1000).toISOString(),
      message: i === 5 ? TRACEBACK : i === 8 ? HOSTILE : `line ${i + 1}`,
    }));
    browser = await launchBrowser();
    page = await openPage(browser, 1000, 900);
    await post('/logs/', lines.map((line, i) => ({ name: i % 3 === 0 ? 'prefect.task_runs' : 'prefect.flow_runs', flow_run_id: runId, task_run_id: i % 3 === 0 ? taskIds[0] : null, ...line })));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const open = async () => {
    await page.goto(`${server.url}/runs/flow-run/${runId}`);
    await page.locator('.run-page [data-testid=artifacts]').waitFor();
  };

  test('task runs in batches of the server\'s page, each state in its colour', async () => {
    await open();
    expect(await page.locator('[data-testid=task-run-count]').textContent()).toBe('7 task runs');
    expect(await rowNames(page)).toEqual(['load-0', 'load-1', 'load-2', 'load-3', 'load-4']);
    await page.click('[data-testid=task-runs] > button');
    await page.waitForFunction(() => document.querySelectorAll('table.task-runs tbody tr').length === 7);
    expect(await rowNames(page)).toEqual(['load-0', 'load-1', 'load-2', 'load-3', 'load-4', 'load-5', 'load-6']);
    expect(await page.locator('[data-testid=task-runs] > button').isHidden()).toBe(true);
    expect(await cellTexts(page, 'table.task-runs tbody .badge')).toEqual(['Completed', 'Completed', 'Failed', 'Crashed', 'Running', 'Pending', 'Scheduled']);
    const colours = await page.locator('table.task-runs tbody .badge').evaluateAll((badges) => badges.map((b) => getComputedStyle(b).color));
    expect(new Set([colours[0], colours[2], colours[3], colours[4], colours[5], colours[6]]).size).toBe(6); // completed, failed, crashed, running, pending, scheduled
    expect(colours[0]).toBe(colours[1]);
    // Not started: the expected start, said so; no duration.
    expect(await page.locator('tr[data-name=load-5] td.col-started').textContent()).toStartWith('expected ');
    expect(await page.locator('tr[data-name=load-5] td.col-duration').textContent()).toBe('—');
    expect(await page.locator('tr[data-name=load-4] td.col-duration').textContent()).toContain('so far'); // running
    expect(await page.locator('tr[data-name=load-2] .tag').allTextContents()).toEqual(['critical']);
    // The run's own facts: tags, a running duration, small parameters on one line.
    expect(await page.locator('dl.facts .tag').allTextContents()).toEqual(['nightly', 'warehouse']);
    expect(await page.locator('[data-testid=duration]').textContent()).toContain('so far');
    expect(await page.locator('[data-testid=parameters] li').allTextContents()).toEqual(['rows = 5000', 'target = "warehouse.orders"', 'dry_run = false']);
    expect(await page.locator('[data-testid=artifacts] .empty').textContent()).toBe('This flow run has no artifacts.');
    expect(page.errors).toEqual([]);
  });

  test('log lines in batches: the newest first, "Load earlier" for the ones before', async () => {
    await open();
    const messages = () => cellTexts(page, 'table.logs tbody td.col-message');
    await page.locator('table.logs tbody tr').first().waitFor();
    expect(await messages()).toEqual(lines.slice(7).map((l) => l.message));
    expect(await page.locator('[data-testid=log-count]').textContent()).toBe('Last 5 lines');
    await page.click('[data-testid=logs-earlier]');
    await page.waitForFunction(() => document.querySelectorAll('table.logs tbody tr').length === 10);
    expect(await messages()).toEqual(lines.slice(2).map((l) => l.message));
    await page.click('[data-testid=logs-earlier]');
    await page.waitForFunction(() => document.querySelectorAll('table.logs tbody tr').length === 12);
    expect(await messages()).toEqual(lines.map((l) => l.message));
    expect(await page.locator('[data-testid=logs-earlier]').isHidden()).toBe(true);
    expect(await page.locator('[data-testid=log-count]').textContent()).toBe('12 lines');
    expect(await cellTexts(page, 'table.logs tbody td.col-level')).toEqual(['INFO', 'DEBUG', 'INFO', 'WARNING', 'INFO', 'ERROR', 'INFO', 'INFO', 'CRITICAL', 'INFO', 'WARNING', 'INFO']);
    // Each level in its own colour.
    const colours = await page.locator('table.logs tbody .level').evaluateAll((levels) => levels.map((l) => getComputedStyle(l).color));
    expect(new Set([colours[1], colours[0], colours[3], colours[5]]).size).toBe(4);
    // The task's lines name it.
    expect(await cellTexts(page, 'table.logs tbody td.col-task-run')).toEqual(lines.map((_, i) => (i % 3 === 0 ? 'load-0' : '')));
    expect(page.errors).toEqual([]);
  });

  test('a message is text: markup shown as typed, line breaks kept', async () => {
    await open();
    await page.locator('table.logs tbody tr').first().waitFor();
    await page.click('[data-testid=logs-earlier]');
    await page.click('[data-testid=logs-earlier]');
    await page.waitForFunction(() => document.querySelectorAll('table.logs tbody tr').length === 12);
    const hostile = page.locator('table.logs tbody tr').nth(8).locator('td.col-message');
    expect(await hostile.textContent()).toBe(HOSTILE);
    expect(await hostile.locator('img, b').count()).toBe(0);
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    const traceback = page.locator('table.logs tbody tr').nth(5).locator('td.col-message');
    expect(await traceback.textContent()).toBe(TRACEBACK);
    expect(await traceback.evaluate((td) => getComputedStyle(td).whiteSpace)).toBe('pre-wrap');
    expect((await traceback.boundingBox())!.height).toBeGreaterThan((await hostile.boundingBox())!.height * 2); // four lines
    await page.locator('[data-testid=logs]').evaluate((section) => section.scrollIntoView());
    await screenshot(page, 'flow-run-logs-levels');
    expect(page.errors).toEqual([]);
  });

  test('the level filter asks the server for the lines at or above a level', async () => {
    await open();
    await page.locator('table.logs tbody tr').first().waitFor();
    await page.selectOption('[data-testid=logs] select[name=level]', '30');
    await page.waitForFunction(() => document.querySelectorAll('table.logs tbody tr').length === 4);
    const levels = await page.locator('table.logs tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-level'))));
    expect(levels).toEqual([30, 40, 50, 30]);
    expect(await cellTexts(page, 'table.logs tbody td.col-message')).toEqual([3, 5, 8, 10].map((i) => lines[i].message));
    expect(await page.locator('[data-testid=log-count]').textContent()).toBe('4 lines');
    await page.selectOption('[data-testid=logs] select[name=level]', '50');
    await page.waitForFunction(() => document.querySelectorAll('table.logs tbody tr').length === 1);
    expect(await cellTexts(page, 'table.logs tbody td.col-message')).toEqual([HOSTILE]);
    expect(await page.locator('[data-testid=log-count]').textContent()).toBe('1 line');
    expect(page.errors).toEqual([]);
  });

  test('"Load more" brings the lines sent since the page loaded', async () => {
    await open();
    await page.locator('table.logs tbody tr').first().waitFor();
    await page.click('[data-testid=logs-later]');
    await page.locator('[data-testid=log-status]', { hasText: 'No newer lines.' }).waitFor();
    const later = Date.parse(lines.at(-1)!.timestamp);
    await post('/logs/', [
      { name: 'prefect.flow_runs', level: 20, message: 'late line 1', timestamp: new Date(later + 1000).toISOString(), flow_run_id: runId, task_run_id: null },
      { name: 'prefect.task_runs', level: 30, message: 'late line 2', timestamp: new Date(later + 2000).toISOString(), flow_run_id: runId, task_run_id: taskIds[6] },
    ]);
    await page.click('[data-testid=logs-later]');
    await page.locator('[data-testid=log-status]', { hasText: '2 newer lines loaded.' }).waitFor();
    const messages = await cellTexts(page, 'table.logs tbody td.col-message');
    expect(messages.slice(-3)).toEqual([lines.at(-1)!.message, 'late line 1', 'late line 2']);
    expect(await page.locator('table.logs tbody tr').last().locator('td.col-task-run').textContent()).toBe('load-6'); // a task run past the table's first batch
    // The earlier batches still follow on from what is shown.
    await page.click('[data-testid=logs-earlier]');
    await page.waitForFunction(() => document.querySelectorAll('table.logs tbody tr').length === 12);
    expect((await cellTexts(page, 'table.logs tbody td.col-message'))[0]).toBe(lines[2].message);
    expect(page.errors).toEqual([]);
  });
});

describe.if(run)('empty and missing', () => {
  let server: UiServer;
  let browser: Browser;
  let page: TestPage;

  beforeAll(async () => {
    server = await startUiServer();
    browser = await launchBrowser();
    page = await openPage(browser, 1000, 700);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
  beforeEach(() => {
    page.errors.length = 0; // each test's own
  });

  test('a run with no task runs, no logs and no artifacts says so for each', async () => {
    const flow = await server.api('POST', '/flows/', { name: 'quiet' });
    const created = await server.api('POST', '/flow_runs/', { flow_id: flow.body.id, name: 'silent-sloth', state: { type: 'PENDING' } });
    await page.goto(`${server.url}/runs/flow-run/${created.body.id}`);
    await page.locator('.run-page [data-testid=artifacts]').waitFor();
    expect(await page.locator('.run-page .page-head .badge').textContent()).toBe('Pending');
    expect(await page.locator('[data-testid=task-runs] .empty').textContent()).toBe('This flow run has no task runs.');
    expect(await page.locator('[data-testid=artifacts] .empty').textContent()).toBe('This flow run has no artifacts.');
    expect(await page.locator('[data-testid=logs-empty]').textContent()).toBe('This flow run has no logs.');
    expect(await page.locator('[data-testid=duration]').textContent()).toBe('—');
    expect(await page.locator('dl.facts').textContent()).toContain('Not yet');
    await screenshot(page, 'flow-run-empty');
    expect(page.errors).toEqual([]);
  });

  test('a run whose logs arrive after the page opened (clients send them last): "Load more" shows them', async () => {
    const flow = await server.api('POST', '/flows/', { name: 'late-logger' });
    const created = await server.api('POST', '/flow_runs/', { flow_id: flow.body.id, name: 'tardy-tern', state: { type: 'COMPLETED' } });
    const fresh = await openPage(browser, 1000, 700);
    try {
      await fresh.goto(`${server.url}/runs/flow-run/${created.body.id}`);
      await fresh.locator('[data-testid=logs-empty]').waitFor();
      await fresh.click('[data-testid=logs-later]');
      await fresh.locator('[data-testid=log-status]', { hasText: 'No newer lines.' }).waitFor();
      const records = [1, 2, 3].map((i) => ({ name: 'prefect.flow_runs', level: 20, message: `late ${i}`, timestamp: new Date(Date.now() + i).toISOString(), flow_run_id: created.body.id, task_run_id: null }));
      expect((await server.api('POST', '/logs/', records)).status).toBe(201);
      await fresh.click('[data-testid=logs-later]');
      await fresh.locator('[data-testid=log-status]', { hasText: '3 newer lines loaded.' }).waitFor();
      expect(await cellTexts(fresh, 'table.logs tbody td.col-message')).toEqual(['late 1', 'late 2', 'late 3']);
      expect(await fresh.locator('[data-testid=logs-empty]').isHidden()).toBe(true);
      expect(fresh.errors).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  test('a run this server does not store: said so, with the artifacts that name it', async () => {
    const id = '0f0e0d0c-0b0a-4908-8706-050403020100';
    await server.api('POST', '/artifacts/', { key: 'orphan', type: 'markdown', data: '# hi', flow_run_id: id });
    await page.goto(`${server.url}/runs/flow-run/${id}`);
    await page.locator('[data-testid=run-missing]').waitFor();
    expect(await page.locator('[data-testid=run-missing]').textContent()).toBe('No flow run with this id is stored on this server.');
    expect(await page.locator('[data-testid=artifacts] tr[data-key=orphan]').count()).toBe(1);
    await page.goto(`${server.url}/runs/flow-run/11111111-2222-4333-8444-555555555555`);
    await page.locator('[data-testid=run-missing]').waitFor();
    expect(await page.locator('[data-testid=artifacts] .empty').textContent()).toBe('This flow run has no artifacts.');
    await page.goto(`${server.url}/runs/flow-run/not-a-run`);
    await page.locator('.notice', { hasText: 'This is not a flow run id.' }).waitFor();
    expect(scriptErrors(page)).toEqual([]);
  });

  test('an older server without the logs route: the logs say they are unavailable, the rest shows', async () => {
    const flow = await server.api('POST', '/flows/', { name: 'older' });
    const created = await server.api('POST', '/flow_runs/', { flow_id: flow.body.id, name: 'old-timer', state: { type: 'COMPLETED' } });
    await server.api('POST', '/artifacts/', { key: 'old-report', type: 'markdown', data: '# old', flow_run_id: created.body.id });
    await page.route('**/api/logs/filter', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{"detail":"Not Found"}' }));
    try {
      await page.goto(`${server.url}/runs/flow-run/${created.body.id}`);
      await page.locator('[data-testid=logs-unavailable]').waitFor();
      expect(await page.locator('[data-testid=logs-unavailable]').textContent()).toStartWith('Logs are unavailable');
      expect(await page.locator('.run-page h1').textContent()).toBe('Flow run old-timer');
      expect(await page.locator('[data-testid=artifacts] tr[data-key=old-report]').count()).toBe(1);
      expect(scriptErrors(page)).toEqual([]); // (the browser logs the 404)
    } finally {
      await page.unroute('**/api/logs/filter');
    }
  });

  test('a section whose query fails shows the error in its place; the others still show', async () => {
    const flow = await server.api('POST', '/flows/', { name: 'flaky-server' });
    const created = await server.api('POST', '/flow_runs/', { flow_id: flow.body.id, name: 'brittle-bat', state: { type: 'COMPLETED' } });
    await page.route('**/api/task_runs/filter', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"detail":"The store is unavailable."}' }));
    try {
      await page.goto(`${server.url}/runs/flow-run/${created.body.id}`);
      await page.locator('[data-testid=task-runs] .notice.error').waitFor();
      expect(await page.locator('[data-testid=task-runs] .notice.error').textContent()).toBe('Could not load task runs: The store is unavailable.');
      expect(await page.locator('.run-page h1').textContent()).toBe('Flow run brittle-bat');
      expect(await page.locator('[data-testid=artifacts] .empty').count()).toBe(1);
      expect(scriptErrors(page)).toEqual([]);
    } finally {
      await page.unroute('**/api/task_runs/filter');
    }
  });
});

describe.if(run)('with basic auth and CSRF protection on', () => {
  let server: UiServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startUiServer({ authString: 'admin:s3cret', csrf: { enabled: true, tokenExpirationSeconds: 3600 } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the page signs in, then every query (POST …/filter) carries the credentials and a CSRF token', async () => {
    const flow = await server.api('POST', '/flows/', { name: 'guarded-flow' });
    const top = await server.api('POST', '/flow_runs/', { flow_id: flow.body.id, name: 'locked-lynx', state: { type: 'RUNNING' } });
    const task = await server.api('POST', '/task_runs/', { flow_run_id: top.body.id, task_key: 'sub', dynamic_key: '0', name: 'sub-0', state: { type: 'RUNNING' } });
    const sub = await server.api('POST', '/flow_runs/', { flow_id: flow.body.id, name: 'inner-ibis', parent_task_run_id: task.body.id, state: { type: 'RUNNING' } });
    await server.api('POST', '/artifacts/', { key: 'guarded-report', type: 'markdown', data: '# ok', flow_run_id: top.body.id });
    const page = await openPage(browser);
    const statuses: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/')) statuses.push(r.status());
    });
    try {
      await page.goto(`${server.url}/runs/flow-run/${top.body.id}`);
      await page.locator('form.sign-in').waitFor();
      await page.fill('input[name=username]', 'admin');
      await page.fill('input[name=password]', 's3cret');
      await page.click('form.sign-in button[type=submit]');
      await page.locator('.run-page [data-testid=artifacts]').waitFor();
      expect(await page.locator('.run-page h1').textContent()).toBe('Flow run locked-lynx');
      expect(await page.locator('tr[data-name=sub-0] .subflow a').textContent()).toBe('inner-ibis');
      expect(await page.locator('[data-testid=artifacts] tr[data-key=guarded-report]').count()).toBe(1);
      await page.click('tr[data-name=sub-0] .subflow a');
      await page.waitForURL(`**/runs/flow-run/${sub.body.id}`);
      expect(await page.locator('[data-testid=parent-run]').textContent()).toBe('locked-lynx (task run sub-0)');
      expect(statuses.filter((s) => s === 403)).toEqual([]);
      expect(page.errors.filter((e) => !e.includes('401'))).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
