/**
 * The artifacts page: the latest artifact of every key (or, toggled, every artifact), searched
 * by key, filtered by type, sorted and paged by the API's own filter and count routes. Its
 * state lives in the URL (`?q=&type=&sort=&page=&all=1`), so a view can be shared and reloaded.
 */
import { countArtifacts, countLatest, filterArtifacts, filterLatest, MAX_LIMIT, SignInRequired, type Artifact, type ArtifactCollection, type Sort } from './api.ts';
import { artifactPath, flowRunPath, h, keyPath, link, navigate } from './dom.ts';
import { firstLine, formatDateTime, formatRelative, plural, shortId } from './format.ts';

/** 20 rows a page, or fewer when the server's pages are smaller. */
const PAGE_SIZE = Math.min(20, MAX_LIMIT);

const TYPES = ['markdown', 'table', 'link', 'progress', 'image', 'result'];
const SORTS: [Sort, string][] = [
  ['UPDATED_DESC', 'Recently updated'],
  ['CREATED_DESC', 'Recently created'],
  ['KEY_ASC', 'Key A → Z'],
  ['KEY_DESC', 'Key Z → A'],
];

interface ListState {
  q: string;
  type: string;
  sort: Sort;
  page: number;
  all: boolean;
}

function readState(params: URLSearchParams): ListState {
  const sort = params.get('sort') as Sort | null;
  const page = Number(params.get('page'));
  return {
    q: params.get('q') ?? '',
    type: params.get('type') ?? '',
    sort: sort !== null && SORTS.some(([s]) => s === sort) ? sort : 'UPDATED_DESC',
    page: Number.isInteger(page) && page >= 1 ? page : 1,
    all: params.get('all') === '1',
  };
}

function urlOf(state: ListState): string {
  const params = new URLSearchParams();
  if (state.q) params.set('q', state.q);
  if (state.type) params.set('type', state.type);
  if (state.sort !== 'UPDATED_DESC') params.set('sort', state.sort);
  if (state.all) params.set('all', '1');
  if (state.page > 1) params.set('page', String(state.page));
  const query = params.toString();
  return `/artifacts${query ? `?${query}` : ''}`;
}

function filterOf(state: ListState): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (state.q.trim()) filter.key = { like_: state.q.trim() };
  if (state.type) filter.type = { any_: [state.type] };
  return filter;
}

export async function listPage(params: URLSearchParams): Promise<HTMLElement> {
  const state = readState(params);
  const search = h('input', { type: 'search', name: 'q', value: state.q, placeholder: 'Search keys', 'aria-label': 'Search by key', autocomplete: 'off' });
  // A type outside the usual ones (`?type=my-report`, from a shared link) gets its own option:
  // otherwise the select would show "All types" over a list filtered by it.
  const types = state.type && !TYPES.includes(state.type) ? [...TYPES, state.type] : TYPES;
  const type = h('select', { name: 'type', 'aria-label': 'Type' }, h('option', { value: '' }, 'All types'), types.map((t) => h('option', { value: t, selected: t === state.type }, t)));
  const sort = h('select', { name: 'sort', 'aria-label': 'Sort' }, SORTS.map(([value, label]) => h('option', { value, selected: value === state.sort }, label)));
  const all = h('input', { type: 'checkbox', name: 'all', checked: state.all });
  const count = h('span', { class: 'muted count', 'data-testid': 'count' });
  const results = h('div', { class: 'results' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });

  let generation = 0;
  const refresh = async () => {
    const mine = ++generation;
    const filter = filterOf(state);
    const offset = (state.page - 1) * PAGE_SIZE;
    const query = { artifacts: filter, sort: state.sort, limit: PAGE_SIZE, offset };
    const [rows, total] = state.all
      ? await Promise.all([filterArtifacts(query), countArtifacts(filter)])
      : await Promise.all([filterLatest(query), countLatest(filter)]);
    if (mine !== generation) return; // a newer query has started
    // Past the end (an old link, or the last row of the last page deleted): show the last page.
    const lastPage = Math.max(1, Math.ceil(total / PAGE_SIZE));
    if (rows.length === 0 && state.page > lastPage) return change({ page: lastPage }, true);
    count.textContent = state.all ? plural(total, 'artifact') : plural(total, 'key');
    results.replaceChildren(rows.length > 0 ? artifactTable(rows, state.all) : empty(state, total));
    renderPager(pager, state, total, (page) => {
      change({ page }, false);
      window.scrollTo(0, 0);
    });
  };

  const change = (patch: Partial<ListState>, replace: boolean) => {
    Object.assign(state, patch);
    if (replace) history.replaceState(null, '', urlOf(state));
    else history.pushState(null, '', urlOf(state));
    void refresh().catch(showError);
  };
  const showError = (error: unknown) => {
    // Credentials withdrawn meanwhile: render the route again, which shows the sign-in form.
    if (error instanceof SignInRequired) return navigate(urlOf(state), true);
    results.replaceChildren(h('p', { class: 'notice error' }, `Could not load artifacts: ${error instanceof Error ? error.message : String(error)}`));
  };

  let typing: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => change({ q: search.value, page: 1 }, true), 250);
  });
  type.addEventListener('change', () => change({ type: type.value, page: 1 }, false));
  sort.addEventListener('change', () => change({ sort: sort.value as Sort, page: 1 }, false));
  all.addEventListener('change', () => change({ all: all.checked, page: 1 }, false));

  const page = h(
    'section',
    { class: 'page list-page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Artifacts'), count),
    h(
      'form',
      { class: 'filters', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
      search,
      type,
      sort,
      h('label', { class: 'toggle' }, all, ' Every artifact'),
    ),
    results,
    pager,
  );
  await refresh(); // the first load's failures (sign-in, errors) are the router's to show
  return page;
}

/** The artifacts table of the list and flow-run pages. */
export function artifactTable(rows: (Artifact | ArtifactCollection)[], every: boolean): HTMLElement {
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'data artifacts' },
      h(
        'thead',
        {},
        h('tr', {}, h('th', { scope: 'col' }, every ? 'Artifact' : 'Key'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col', class: 'col-desc' }, 'Description'), h('th', { scope: 'col', class: 'col-run' }, 'Flow run'), h('th', { scope: 'col' }, 'Updated')),
      ),
      h('tbody', {}, rows.map((row) => artifactRow(row))),
    ),
  );
}

function artifactRow(row: Artifact | ArtifactCollection): HTMLElement {
  const id = 'latest_id' in row ? row.latest_id : row.id;
  const name =
    'latest_id' in row
      ? [link(artifactPath(id), h('strong', {}, row.key)), ' ', link(keyPath(row.key), h('span', { class: 'small history-link' }, 'history'))]
      : row.key
        ? [link(artifactPath(id), h('strong', {}, row.key))]
        : [link(artifactPath(id), h('span', { class: 'mono' }, shortId(id))), ' ', h('span', { class: 'small muted' }, 'no key')];
  const description = firstLine(row.description);
  return h(
    'tr',
    { 'data-id': id, 'data-key': row.key ?? '' },
    h('td', { class: 'col-key' }, name),
    h('td', {}, h('span', { class: `badge type-${row.type ?? 'none'}` }, row.type ?? '—')),
    h('td', { class: 'col-desc', title: description.length > 60 ? description : null }, description || h('span', { class: 'muted' }, '—')),
    h('td', { class: 'col-run' }, row.flow_run_id ? link(flowRunPath(row.flow_run_id), h('span', { class: 'mono' }, shortId(row.flow_run_id))) : h('span', { class: 'muted' }, '—')),
    h('td', { class: 'nowrap' }, h('time', { datetime: row.updated, title: formatDateTime(row.updated) }, formatRelative(row.updated))),
  );
}

function empty(state: ListState, total: number): HTMLElement {
  if (total > 0) return h('p', { class: 'empty' }, 'No artifacts on this page. ', h('a', { href: urlOf({ ...state, page: 1 }), 'data-route': true }, 'Back to the first page'));
  if (state.q || state.type) return h('p', { class: 'empty' }, 'No artifact matches these filters.');
  return h(
    'div',
    { class: 'empty' },
    h('p', {}, 'No artifacts yet. Publish one from a Prefect flow, or:'),
    h('pre', {}, `curl -X POST ${location.origin}/api/artifacts/ -H 'content-type: application/json' \\\n  -d '{"key": "hello", "type": "markdown", "data": "# Hello"}'`),
  );
}

function renderPager(pager: HTMLElement, state: ListState, total: number, go: (page: number) => void): void {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  pager.hidden = pages <= 1 && state.page === 1;
  const button = (label: string, page: number, disabled: boolean, rel: string) =>
    h('button', { type: 'button', class: 'secondary', disabled, 'data-page': rel, onclick: () => go(page) }, label);
  pager.replaceChildren(
    button('← Previous', state.page - 1, state.page <= 1, 'prev'),
    h('span', { class: 'muted' }, `Page ${state.page} of ${pages}`),
    button('Next →', state.page + 1, state.page >= pages, 'next'),
  );
}
