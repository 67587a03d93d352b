/**
 * A key's history (every version, newest first, the latest marked, its content shown) and a
 * flow run's artifacts. Both read the API in batches and offer the next batch on demand.
 */
import { ApiError, countArtifacts, filterArtifacts, getFlowRun, latestOf, MAX_LIMIT, type Artifact } from './api.ts';
import { artifactPath, flowRunPath, h, link } from './dom.ts';
import { firstLine, formatDateTime, formatRelative, plural, shortId } from './format.ts';
import { artifactTable } from './list-page.ts';
import { renderMarkdown } from './markdown.ts';
import { renderData } from './render.ts';

/** Rows per request: 50, or fewer when the server's pages are smaller. */
const BATCH = Math.min(50, MAX_LIMIT);

/** A list that loads `BATCH` more rows per click until `total` are shown. */
function batched(total: number, first: Artifact[], load: (offset: number) => Promise<Artifact[]>, show: (rows: Artifact[]) => void): HTMLElement {
  let loaded = first.length;
  show(first);
  const more = h('button', { type: 'button', class: 'secondary', hidden: loaded >= total }, 'Load more');
  more.addEventListener('click', async () => {
    more.disabled = true;
    const rows = await load(loaded);
    loaded += rows.length;
    show(rows);
    more.disabled = false;
    more.hidden = loaded >= total || rows.length === 0; // stops even if the total moved meanwhile
  });
  return more;
}

export async function keyPage(key: string): Promise<HTMLElement> {
  const filter = { key: { any_: [key] } };
  const query = (offset: number) => filterArtifacts({ artifacts: filter, sort: 'CREATED_DESC', limit: BATCH, offset });
  const [first, total, latest] = await Promise.all([query(0), countArtifacts(filter), latestOf(key)]);
  document.title = `${key} · history · artifactd`;
  const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, link('/artifacts', 'Artifacts'), ' / ', key);
  if (total === 0 || latest === null) {
    return h('section', { class: 'page' }, crumbs, h('h1', {}, key), h('p', { class: 'notice' }, 'No artifact has this key (any more).'));
  }
  const list = h('ol', { class: 'timeline', 'data-testid': 'versions' });
  const more = batched(total, first, query, (rows) => list.append(...rows.map((a) => versionItem(a, a.id === latest.latest_id))));
  const newest = first.find((a) => a.id === latest.latest_id);
  return h(
    'section',
    { class: 'page key-page' },
    crumbs,
    h('div', { class: 'page-head' }, h('h1', {}, key), h('span', { class: 'muted count' }, plural(total, 'version'))),
    latest.description ? h('div', { class: 'markdown description' }, renderMarkdown(latest.description)) : null,
    h(
      'div',
      { class: 'layout' },
      newest
        ? h('article', { class: 'card content' }, h('h2', {}, 'Latest version ', link(artifactPath(newest.id), h('span', { class: 'mono small' }, shortId(newest.id)))), renderData(newest))
        : null,
      h('aside', { class: 'card history' }, h('h2', {}, 'History'), list, more),
    ),
  );
}

function versionItem(artifact: Artifact, isLatest: boolean): HTMLElement {
  const description = firstLine(artifact.description);
  return h(
    'li',
    { 'data-id': artifact.id, class: isLatest ? 'latest' : null },
    h('div', { class: 'when' }, h('time', { datetime: artifact.created, title: formatDateTime(artifact.created) }, formatRelative(artifact.created))),
    h(
      'div',
      { class: 'what' },
      link(artifactPath(artifact.id), h('span', { class: 'mono' }, shortId(artifact.id))),
      ' ',
      h('span', { class: `badge type-${artifact.type ?? 'none'}` }, artifact.type ?? '—'),
      isLatest ? [' ', h('span', { class: 'badge latest' }, 'Latest')] : null,
      description ? h('div', { class: 'small' }, description) : null,
      artifact.flow_run_id ? h('div', { class: 'small muted' }, 'Flow run ', link(flowRunPath(artifact.flow_run_id), h('span', { class: 'mono' }, shortId(artifact.flow_run_id)))) : null,
    ),
  );
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export async function flowRunPage(id: string): Promise<HTMLElement> {
  const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, link('/artifacts', 'Artifacts'), ' / flow run ', h('span', { class: 'mono' }, shortId(id)));
  if (!UUID.test(id)) return h('section', { class: 'page' }, crumbs, h('h1', {}, 'Flow run'), h('p', { class: 'notice' }, 'This is not a flow run id.'));
  const filter = { flow_run_id: { any_: [id] } };
  const query = (offset: number) => filterArtifacts({ artifacts: filter, sort: 'CREATED_DESC', limit: BATCH, offset });
  // Artifacts may name runs this server never stored (Prefect does not check): then only the id is known.
  const run = getFlowRun(id).catch((error: unknown) => {
    if (error instanceof ApiError && (error.status === 404 || error.status === 422)) return null;
    throw error;
  });
  const [first, total, flowRun] = await Promise.all([query(0), countArtifacts(filter), run]);
  document.title = `Flow run ${flowRun?.name ?? shortId(id)} · artifactd`;
  const body = h('div', {});
  let table: HTMLElement | null = null;
  const more = batched(total, first, query, (rows) => {
    if (table === null) body.append((table = artifactTable(rows, true)));
    else table.querySelector('tbody')!.append(...Array.from(artifactTable(rows, true).querySelector('tbody')!.children));
  });
  return h(
    'section',
    { class: 'page run-page' },
    crumbs,
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, flowRun ? `Flow run ${flowRun.name}` : 'Flow run'),
      flowRun?.state_name ? h('span', { class: `badge state-${(flowRun.state_type ?? '').toLowerCase()}` }, flowRun.state_name) : null,
      h('span', { class: 'muted count' }, plural(total, 'artifact')),
    ),
    h('p', { class: 'mono small muted' }, id),
    total === 0 ? h('p', { class: 'empty' }, 'This flow run has no artifacts.') : body,
    more,
  );
}
