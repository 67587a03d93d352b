/**
 * For the browser tests on a server that does not serve the logs routes yet: `POST /api/logs/`
 * and `POST /api/logs/filter` answered in the browser (Playwright's page.route), as Prefect
 * 3.0.0 answers them — the LogFilter's `flow_run_id`, `task_run_id`, `level` (ge_/le_) and
 * `timestamp` (after_/before_, inclusive), TIMESTAMP_ASC/DESC, offset, and limit capped at the
 * server's largest page. Once the server serves them, the tests use the server instead.
 */
import type { Page, Route } from 'playwright-core';

export interface LogInput {
  name: string;
  level: number;
  message: string;
  timestamp: string;
  flow_run_id: string | null;
  task_run_id: string | null;
}

interface Stored extends LogInput {
  id: string;
  created: string;
  updated: string;
}

export class LogStandIn {
  private readonly lines: Stored[] = [];

  constructor(private readonly maxLimit: number) {}

  add(records: readonly LogInput[]): void {
    const now = new Date().toISOString();
    for (const r of records) this.lines.push({ id: crypto.randomUUID(), created: now, updated: now, ...r });
  }

  filter(body: any): Stored[] {
    const f = body?.logs ?? {};
    const time = (iso: string) => Date.parse(iso);
    const rows = this.lines.filter(
      (l) =>
        (!f.flow_run_id?.any_ || f.flow_run_id.any_.includes(l.flow_run_id)) &&
        (!f.task_run_id?.any_ || f.task_run_id.any_.includes(l.task_run_id)) &&
        (f.level?.ge_ === undefined || l.level >= f.level.ge_) &&
        (f.level?.le_ === undefined || l.level <= f.level.le_) &&
        (f.timestamp?.after_ === undefined || time(l.timestamp) >= time(f.timestamp.after_)) &&
        (f.timestamp?.before_ === undefined || time(l.timestamp) <= time(f.timestamp.before_)),
    );
    const sign = body?.sort === 'TIMESTAMP_DESC' ? -1 : 1;
    rows.sort((a, b) => sign * (time(a.timestamp) - time(b.timestamp) || (a.id < b.id ? -1 : 1)));
    const offset = body?.offset ?? 0;
    return rows.slice(offset, offset + Math.min(body?.limit ?? this.maxLimit, this.maxLimit));
  }

  /** Answers the page's logs requests from here. */
  async install(page: Page): Promise<void> {
    await page.route('**/api/logs/**', (route: Route) => {
      const request = route.request();
      const path = new URL(request.url()).pathname;
      if (request.method() === 'POST' && path === '/api/logs/filter') {
        return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(this.filter(request.postDataJSON())) });
      }
      if (request.method() === 'POST' && path === '/api/logs/') {
        this.add(request.postDataJSON());
        return route.fulfill({ status: 201, contentType: 'application/json', body: 'null' });
      }
      return route.fulfill({ status: 404, contentType: 'application/json', body: '{"detail":"Not Found"}' });
    });
  }
}
