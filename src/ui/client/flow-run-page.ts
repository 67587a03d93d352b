/**
 * A flow run's page: what ran and what it said. The run (flow, state, times, tags, parameters,
 * the run that started it when it is a sub-flow), its task runs (with links to the sub-flow runs
 * they started), its log lines (logs-view.ts) and its artifacts. Each section loads on its own:
 * one that fails, or a server without the logs route, says so and the others still show.
 */
import {
  ApiError,
  countArtifacts,
  countTaskRuns,
  filterArtifacts,
  filterFlowRuns,
  filterTaskRuns,
  getFlow,
  getFlowRun,
  getTaskRun,
  MAX_LIMIT,
  SignInRequired,
  type Artifact,
  type Flow,
  type FlowRun,
  type Run,
  type TaskRun,
} from './api.ts';
import { flowRunPath, h, link, section, type Child } from './dom.ts';
import { formatClock, formatDateTime, plural, shortId } from './format.ts';
import { artifactTable } from './list-page.ts';
import { logsSection, TaskNames } from './logs-view.ts';
import { formatDuration, isTerminal, orderByStart, retriesText, runDuration, smallParameters, stateClass } from './run-format.ts';
import { BATCH, batched } from './run-pages.ts';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

const missing = (error: unknown) => error instanceof ApiError && (error.status === 404 || error.status === 422);

/** The value, or null when the API says there is no such thing (404, or 422 for a malformed id). */
async function orNull<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch (error) {
    if (missing(error)) return null;
    throw error;
  }
}

/** For what only decorates the page (a flow's name, a parent run): null on any failure but sign-in. */
async function optional<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof SignInRequired) throw error;
    return null;
  }
}

export function stateBadge(run: Pick<Run, 'state_type' | 'state_name'>): HTMLElement {
  return h('span', { class: `badge ${stateClass(run.state_type)}`, 'data-state': run.state_type ?? '' }, run.state_name ?? run.state_type ?? 'No state');
}

function tagList(tags: readonly string[]): Child {
  return tags.length === 0 ? null : h('ul', { class: 'tags', 'aria-label': 'Tags' }, tags.map((tag) => h('li', { class: 'tag' }, tag)));
}

function timeOf(iso: string, text: string): HTMLElement {
  return h('time', { datetime: iso, title: formatDateTime(iso) }, text);
}

/** A section whose loading failed: the error in its place; sign-in still goes to the router. */
async function guarded(title: string, testid: string, build: Promise<HTMLElement>): Promise<HTMLElement> {
  try {
    return await build;
  } catch (error) {
    if (error instanceof SignInRequired) throw error;
    return section(title, testid, [], h('p', { class: 'notice error' }, `Could not load ${title.toLowerCase()}: ${error instanceof Error ? error.message : String(error)}`));
  }
}

// ── The page ───────────────────────────────────────────────────────────────────────────────

interface Parent {
  taskRunId: string;
  task: TaskRun | null;
  run: FlowRun | null;
}

/** The run that started a sub-flow run: through its parent task run's `flow_run_id`. */
async function parentOf(run: FlowRun | null): Promise<Parent | null> {
  if (!run?.parent_task_run_id) return null;
  const task = await optional(getTaskRun(run.parent_task_run_id));
  const parent = task?.flow_run_id ? await optional(getFlowRun(task.flow_run_id)) : null;
  return { taskRunId: run.parent_task_run_id, task, run: parent };
}

export async function flowRunPage(id: string): Promise<HTMLElement> {
  const crumbs = (...trail: Child[]) => h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, link('/artifacts', 'Artifacts'), trail, ' / flow run ', h('span', { class: 'mono' }, shortId(id)));
  if (!UUID.test(id)) return h('section', { class: 'page' }, crumbs(), h('h1', {}, 'Flow run'), h('p', { class: 'notice' }, 'This is not a flow run id.'));

  // Everything at once: the sections need only the id; the flow and the parent need the run.
  const taskFilter = { task_runs: { flow_run_id: { any_: [id] } } };
  const firstTasks = Promise.all([loadTasks(taskFilter, 0), countTaskRuns(taskFilter)]);
  const names = new TaskNames(firstTasks.then(([rows]) => rows.map((row) => row.task), () => []));
  const runLoad = orNull(getFlowRun(id));
  const [run, flow, parent, tasks, logs, artifacts] = await Promise.all([
    runLoad,
    runLoad.then((r) => (r ? optional(getFlow(r.flow_id)) : null)),
    runLoad.then(parentOf),
    guarded('Task runs', 'task-runs', taskRunsSection(taskFilter, firstTasks)),
    guarded('Logs', 'logs', logsSection(id, names)),
    guarded('Artifacts', 'artifacts', artifactsSection(id)),
  ]);
  document.title = `Flow run ${run?.name ?? shortId(id)} · artifactd`;

  if (run === null) {
    // Artifacts (and logs) may name runs this server never stored: Prefect does not check.
    return h(
      'section',
      { class: 'page run-page' },
      crumbs(),
      h('div', { class: 'page-head' }, h('h1', {}, 'Flow run')),
      h('p', { class: 'notice', 'data-testid': 'run-missing' }, 'No flow run with this id is stored on this server.'),
      h('p', { class: 'mono small muted' }, id),
      artifacts,
    );
  }
  const parentRun = parent?.run ?? null;
  return h(
    'section',
    { class: 'page run-page' },
    parentRun ? crumbs(' / flow run ', link(flowRunPath(parentRun.id), h('span', { class: 'mono' }, shortId(parentRun.id)))) : crumbs(),
    header(run, flow, parent),
    tasks,
    logs,
    artifacts,
  );
}

// ── The run itself ─────────────────────────────────────────────────────────────────────────

function header(run: FlowRun, flow: Flow | null, parent: Parent | null): Child[] {
  const running = run.state_type === 'RUNNING';
  const duration = runDuration(run);
  const facts: [string, Child, string?][] = [
    ['Flow', h('span', { 'data-testid': 'flow-name' }, flow?.name ?? h('span', { class: 'mono' }, shortId(run.flow_id)))],
    [
      'Started',
      run.start_time
        ? timeOf(run.start_time, formatDateTime(run.start_time))
        : run.expected_start_time
          ? h('span', { class: 'muted' }, 'Not yet; expected ', timeOf(run.expected_start_time, formatDateTime(run.expected_start_time)))
          : h('span', { class: 'muted' }, 'Not yet'),
    ],
    ['Ended', run.end_time ? timeOf(run.end_time, formatDateTime(run.end_time)) : h('span', { class: 'muted' }, isTerminal(run.state_type) ? '—' : 'Not yet')],
    ['Duration', h('span', { 'data-testid': 'duration' }, formatDuration(duration), running && duration !== null ? h('span', { class: 'muted' }, ' so far') : null)],
  ];
  if (run.run_count > 1) facts.push(['Runs', `${run.run_count} (${retriesText(run.run_count)})`]);
  if (parent) {
    facts.push([
      'Sub-flow of',
      h(
        'span',
        { 'data-testid': 'parent-run' },
        parent.run ? link(flowRunPath(parent.run.id), parent.run.name) : h('span', { class: 'muted' }, 'a run not stored here'),
        parent.task ? h('span', { class: 'muted' }, ' (task run ', parent.task.name, ')') : h('span', { class: 'muted' }, ' (task run ', h('span', { class: 'mono' }, shortId(parent.taskRunId)), ')'),
      ),
      'span-2',
    ]);
  }
  if (run.tags.length > 0) facts.push(['Tags', tagList(run.tags), 'span-2']);
  const parameters = parametersOf(run.parameters);
  if (parameters) facts.push(['Parameters', parameters, parameters instanceof HTMLDetailsElement ? 'wide' : 'span-2']);
  facts.push(['Id', h('span', { class: 'mono small' }, run.id), 'span-2']);

  const message = run.state?.message;
  const failed = run.state_type === 'FAILED' || run.state_type === 'CRASHED';
  return [
    h('div', { class: 'page-head' }, h('h1', {}, `Flow run ${run.name}`), stateBadge(run)),
    message ? h('p', { class: `notice state-message${failed ? ' error' : ''}`, 'data-testid': 'state-message' }, message) : null,
    h(
      'dl',
      { class: 'card facts', 'aria-label': 'Flow run' },
      facts.map(([term, value, wide]) => h('div', { class: wide ?? null }, h('dt', {}, term), h('dd', {}, value))),
    ),
  ];
}

/** Few short parameters in one line; more behind a toggle; none: nothing. */
function parametersOf(parameters: Record<string, unknown> | null): Child {
  const entries = Object.keys(parameters ?? {});
  if (entries.length === 0) return null;
  const small = smallParameters(parameters);
  if (small) return h('ul', { class: 'parameters', 'data-testid': 'parameters' }, small.map(([name, value]) => h('li', {}, h('code', {}, name, ' = ', value))));
  return h('details', { 'data-testid': 'parameters' }, h('summary', {}, plural(entries.length, 'parameter')), h('pre', { class: 'json' }, JSON.stringify(parameters, null, 2)));
}

// ── Task runs ──────────────────────────────────────────────────────────────────────────────

interface TaskRow {
  task: TaskRun;
  /** The sub-flow run this task run started, when it did and the run is stored. */
  child: FlowRun | null;
}

/**
 * A batch of the run's task runs, in the order they started, each with the sub-flow run it
 * started (asked for in one query by `parent_task_run_id`).
 */
async function loadTasks(filter: Record<string, unknown>, offset: number): Promise<TaskRow[]> {
  const tasks = orderByStart(await filterTaskRuns({ ...filter, sort: 'EXPECTED_START_TIME_ASC', limit: BATCH, offset }));
  const children = new Map<string, FlowRun>();
  if (tasks.length > 0) {
    const runs = await optional(filterFlowRuns({ flow_runs: { parent_task_run_id: { any_: tasks.map((t) => t.id) } }, sort: 'EXPECTED_START_TIME_ASC', limit: MAX_LIMIT }));
    for (const run of runs ?? []) if (run.parent_task_run_id && !children.has(run.parent_task_run_id)) children.set(run.parent_task_run_id, run);
  }
  return tasks.map((task) => ({ task, child: children.get(task.id) ?? null }));
}

async function taskRunsSection(filter: Record<string, unknown>, firstLoad: Promise<[TaskRow[], number]>): Promise<HTMLElement> {
  const [first, total] = await firstLoad;
  if (total === 0 && first.length === 0) {
    return section('Task runs', 'task-runs', [], h('p', { class: 'empty' }, 'This flow run has no task runs.'));
  }
  const body = h('tbody');
  const more = batched(total, first, (offset) => loadTasks(filter, offset), (rows) => body.append(...rows.map(taskRow)));
  const head = h(
    'tr',
    {},
    ['Task run', 'State', 'Started', 'Duration', 'Runs', 'Tags'].map((name) => h('th', { scope: 'col', class: `col-${name.toLowerCase().replace(' ', '-')}` }, name)),
  );
  return section(
    'Task runs',
    'task-runs',
    [h('span', { class: 'muted count', 'data-testid': 'task-run-count' }, plural(total, 'task run'))],
    h('div', { class: 'table-scroll' }, h('table', { class: 'data task-runs', 'aria-labelledby': 'task-runs-heading' }, h('thead', {}, head), body)),
    more,
  );
}

function taskRow({ task, child }: TaskRow): HTMLTableRowElement {
  const childId = child?.id ?? task.state?.state_details?.child_flow_run_id ?? null;
  const duration = runDuration(task);
  const retries = retriesText(task.run_count);
  return h(
    'tr',
    { 'data-id': task.id, 'data-name': task.name },
    h(
      'th',
      { scope: 'row', class: 'col-task-run' },
      task.name || h('span', { class: 'mono' }, shortId(task.id)),
      childId
        ? h('div', { class: 'small subflow' }, 'Sub-flow ', link(flowRunPath(childId), child ? child.name : h('span', { class: 'mono' }, shortId(childId))))
        : null,
    ),
    h('td', { class: 'col-state' }, stateBadge(task)),
    h(
      'td',
      { class: 'col-started nowrap' },
      task.start_time
        ? timeOf(task.start_time, formatClock(task.start_time))
        : task.expected_start_time
          ? h('span', { class: 'muted' }, 'expected ', timeOf(task.expected_start_time, formatClock(task.expected_start_time)))
          : '—',
    ),
    h('td', { class: 'col-duration nowrap' }, formatDuration(duration), task.state_type === 'RUNNING' && duration !== null ? h('span', { class: 'muted' }, ' so far') : null),
    h('td', { class: 'col-runs nowrap' }, String(task.run_count), retries ? h('span', { class: 'muted small' }, ` · ${retries}`) : null),
    h('td', { class: 'col-tags' }, tagList(task.tags)),
  );
}

// ── Artifacts ──────────────────────────────────────────────────────────────────────────────

async function artifactsSection(id: string): Promise<HTMLElement> {
  const filter = { flow_run_id: { any_: [id] } };
  const query = (offset: number) => filterArtifacts({ artifacts: filter, sort: 'CREATED_DESC', limit: BATCH, offset });
  const [first, total] = await Promise.all([query(0), countArtifacts(filter)]);
  const count = h('span', { class: 'muted count', 'data-testid': 'artifact-count' }, plural(total, 'artifact'));
  if (total === 0) return section('Artifacts', 'artifacts', [count], h('p', { class: 'empty' }, 'This flow run has no artifacts.'));
  const body = h('div', {});
  let table: HTMLElement | null = null;
  const more = batched<Artifact>(total, first, query, (rows) => {
    if (table === null) body.append((table = artifactTable(rows, true)));
    else table.querySelector('tbody')!.append(...Array.from(artifactTable(rows, true).querySelector('tbody')!.children));
  });
  return section('Artifacts', 'artifacts', [count], body, more);
}
