/**
 * A key's history (every version, newest first, the latest marked, its content shown), read
 * from the API in batches with the next batch on demand (`batched`, which the flow-run page's
 * lists use too: flow-run-page.ts).
 */
import { countArtifacts, filterArtifacts, latestOf, MAX_LIMIT, type Artifact } from './api.ts';
import { artifactPath, flowRunPath, h, link, toast } from './dom.ts';
import { firstLine, formatDateTime, formatRelative, plural, shortId } from './format.ts';
import { renderMarkdown } from './markdown.ts';
import { renderData } from './render.ts';

/** Rows per request: 50, or fewer when the server's pages are smaller. */
export const BATCH = Math.min(50, MAX_LIMIT);

/** A list that loads `BATCH` more rows per click until `total` are shown; the button. */
export function batched<T>(total: number, first: T[], load: (offset: number) => Promise<T[]>, show: (rows: T[]) => void): HTMLButtonElement {
  let loaded = first.length;
  show(first);
  const more = h('button', { type: 'button', class: 'secondary', hidden: loaded >= total }, 'Load more');
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const rows = await load(loaded);
      loaded += rows.length;
      show(rows);
      more.hidden = loaded >= total || rows.length === 0; // stops even if the total moved meanwhile
    } catch (error) {
      toast(`Could not load more: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      more.disabled = false;
    }
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
