/**
 * A flow run's log lines, newest last, as `POST /logs/filter` gives them: the latest batch
 * first (the server's largest page), "Load earlier" for the batch before, "Load more" for lines
 * sent since (Prefect clients send their logs in batches, often after the run ended), and a
 * lowest-level filter. Each line: its time, level (name and colour), the task run it belongs to,
 * and its message as text. A server without the logs route (404) gets a notice instead.
 */
import { ApiError, filterLogs, filterTaskRuns, MAX_LIMIT, SignInRequired, type LogLine, type TaskRun } from './api.ts';
import { h, navigate, section } from './dom.ts';
import { formatClock, formatDateTime, plural, shortId } from './format.ts';
import { levelClass, levelName } from './run-format.ts';

/** Lines per request: the server's largest page. */
const LOG_BATCH = MAX_LIMIT;

const LEVEL_CHOICES: [number, string][] = [
  [0, 'All levels'],
  [20, 'Info and above'],
  [30, 'Warning and above'],
  [40, 'Error and above'],
  [50, 'Critical only'],
];

/**
 * The names of task runs, for the log lines that belong to one: those of the page's task-run
 * table, then, for lines of task runs not in it (later batches), asked for by id in one query.
 */
export class TaskNames {
  private readonly names = new Map<string, string>();
  private readonly asked = new Set<string>();
  private readonly ready: Promise<void>;

  constructor(first: Promise<readonly TaskRun[]>) {
    this.ready = first.then((rows) => this.add(rows));
  }

  add(rows: readonly TaskRun[]): void {
    for (const row of rows) this.names.set(row.id, row.name);
  }

  get(id: string): string | undefined {
    return this.names.get(id);
  }

  async resolve(lines: readonly LogLine[]): Promise<void> {
    await this.ready;
    const unknown = [...new Set(lines.map((line) => line.task_run_id))]
      .filter((id): id is string => id !== null && !this.names.has(id) && !this.asked.has(id))
      .slice(0, MAX_LIMIT);
    if (unknown.length === 0) return;
    for (const id of unknown) this.asked.add(id); // a run the server does not have is asked for once
    try {
      this.add(await filterTaskRuns({ task_runs: { id: { any_: unknown } }, limit: MAX_LIMIT }));
    } catch (error) {
      if (error instanceof SignInRequired) throw error;
      // Only names are missing: the lines show the task runs' short ids.
    }
  }
}

const unavailable = (error: unknown) => error instanceof ApiError && (error.status === 404 || error.status === 405);

export async function logsSection(flowRunId: string, names: TaskNames): Promise<HTMLElement> {
  let level = 0;
  let shown = new Set<string>();
  let olderOffset = 0; // lines of the newest-first order already asked for
  let last: LogLine | null = null;

  const select = h('select', { name: 'level', 'aria-label': 'Lowest level shown' }, LEVEL_CHOICES.map(([value, label]) => h('option', { value }, label)));
  const count = h('span', { class: 'muted count', 'data-testid': 'log-count' });
  const status = h('span', { class: 'muted small', role: 'status', 'data-testid': 'log-status' });
  const body = h('tbody');
  const scroll = h(
    'div',
    { class: 'table-scroll logs-scroll' },
    h(
      'table',
      { class: 'data logs', 'aria-labelledby': 'logs-heading' },
      h('thead', {}, h('tr', {}, ['Time', 'Level', 'Task run', 'Message'].map((name) => h('th', { scope: 'col', class: `col-${name.toLowerCase().replace(' ', '-')}` }, name)))),
      body,
    ),
  );
  const empty = h('p', { class: 'empty', hidden: true, 'data-testid': 'logs-empty' });
  const earlier = h('button', { type: 'button', class: 'secondary', hidden: true, 'data-testid': 'logs-earlier' }, 'Load earlier');
  const later = h('button', { type: 'button', class: 'secondary', 'data-testid': 'logs-later', title: 'Lines sent since these were loaded' }, 'Load more');

  const filter = (extra: Record<string, unknown> = {}) => ({ flow_run_id: { any_: [flowRunId] }, ...(level > 0 ? { level: { ge_: level } } : {}), ...extra });
  /** The rows of the lines not shown yet (the pages of a growing list overlap). */
  const rowsOf = (lines: readonly LogLine[]) =>
    lines
      .filter((line) => !shown.has(line.id))
      .map((line) => {
        shown.add(line.id);
        return logRow(line, names);
      });
  const update = () => {
    scroll.hidden = shown.size === 0;
    empty.hidden = shown.size > 0;
    empty.textContent = level > 0 ? `No lines at ${levelName(level)} or above.` : 'This flow run has no logs.';
    count.textContent = earlier.hidden ? plural(shown.size, 'line') : `Last ${plural(shown.size, 'line')}`;
  };

  /** The newest batch, oldest of it first; the box scrolled to its end. */
  const tail = async () => {
    const rows = await filterLogs({ logs: filter(), sort: 'TIMESTAMP_DESC', limit: LOG_BATCH, offset: 0 });
    await names.resolve(rows);
    const lines = rows.reverse();
    shown = new Set();
    olderOffset = rows.length;
    last = lines.at(-1) ?? null;
    body.replaceChildren(...rowsOf(lines));
    earlier.hidden = rows.length < LOG_BATCH;
    status.textContent = '';
    update();
    requestAnimationFrame(() => (scroll.scrollTop = scroll.scrollHeight));
  };

  const loadEarlier = async () => {
    const rows = await filterLogs({ logs: filter(), sort: 'TIMESTAMP_DESC', limit: LOG_BATCH, offset: olderOffset });
    await names.resolve(rows);
    olderOffset += rows.length;
    body.prepend(...rowsOf(rows.reverse()));
    earlier.hidden = rows.length < LOG_BATCH;
    update();
  };

  const loadLater = async () => {
    if (last === null) {
      // Nothing shown yet: the newest batch, as when the page opened.
      await tail();
      status.textContent = shown.size === 0 ? 'No newer lines.' : `${plural(shown.size, 'newer line')} loaded.`;
      return;
    }
    // From the last line's time on (inclusive: lines of the same instant are told apart by id).
    const rows = await filterLogs({ logs: filter({ timestamp: { after_: last.timestamp } }), sort: 'TIMESTAMP_ASC', limit: LOG_BATCH, offset: 0 });
    await names.resolve(rows);
    const fresh = rowsOf(rows);
    olderOffset += fresh.length; // newer lines come first in the newest-first order
    body.append(...fresh);
    last = rows.at(-1) ?? last;
    status.textContent = fresh.length === 0 ? 'No newer lines.' : `${plural(fresh.length, 'newer line')} loaded.`;
    update();
  };

  /** Runs one load with the controls disabled; a failure is reported beside them. */
  const act = async (load: () => Promise<void>) => {
    for (const control of [select, earlier, later]) control.disabled = true;
    scroll.setAttribute('aria-busy', 'true');
    try {
      await load();
    } catch (error) {
      // Credentials withdrawn meanwhile: render the page again, which shows the sign-in form.
      if (error instanceof SignInRequired) return navigate(location.pathname, true);
      status.textContent = `Could not load logs: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      for (const control of [select, earlier, later]) control.disabled = false;
      scroll.removeAttribute('aria-busy');
    }
  };

  try {
    await tail();
  } catch (error) {
    if (!unavailable(error)) throw error;
    return section('Logs', 'logs', [], h('p', { class: 'notice', 'data-testid': 'logs-unavailable' }, 'Logs are unavailable: this server does not serve them (POST /api/logs/filter answered 404).'));
  }
  select.addEventListener('change', () => {
    level = Number(select.value);
    void act(tail);
  });
  earlier.addEventListener('click', () => void act(loadEarlier));
  later.addEventListener('click', () => void act(loadLater));
  return section(
    'Logs',
    'logs',
    [count, h('span', { class: 'spacer' }), select],
    earlier,
    scroll,
    empty,
    h('div', { class: 'log-actions' }, later, status),
  );
}

function logRow(line: LogLine, names: TaskNames): HTMLTableRowElement {
  const kind = levelClass(line.level);
  const task = line.task_run_id === null ? '' : names.get(line.task_run_id) || h('span', { class: 'mono' }, shortId(line.task_run_id));
  return h(
    'tr',
    { 'data-id': line.id, 'data-level': line.level, class: kind },
    h('td', { class: 'col-time nowrap' }, h('time', { datetime: line.timestamp, title: formatDateTime(line.timestamp) }, formatClock(line.timestamp, true))),
    h('td', { class: 'col-level' }, h('span', { class: `level ${kind}` }, levelName(line.level))),
    h('td', { class: 'col-task-run' }, task),
    h('td', { class: 'col-message' }, line.message),
  );
}
