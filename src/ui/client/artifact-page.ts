/**
 * One artifact: its data rendered by type, its description as markdown, its metadata, its
 * runs, whether it is its key's latest version, and deletion behind a confirmation.
 */
import { countArtifacts, deleteArtifact, getArtifact, latestOf, type Artifact } from './api.ts';
import { artifactPath, flowRunPath, h, keyPath, link, navigate, toast, type Child } from './dom.ts';
import { formatDateTime, formatRelative, plural, shortId } from './format.ts';
import { renderMarkdown } from './markdown.ts';
import { renderData } from './render.ts';

export async function artifactPage(id: string): Promise<HTMLElement> {
  const artifact = await getArtifact(id);
  const key = artifact.key;
  const [latest, versions] = key === null ? [null, 1] : await Promise.all([latestOf(key), countArtifacts({ key: { any_: [key] } })]);
  const isLatest = latest !== null && latest.latest_id === artifact.id;

  const title = key ?? `Artifact ${shortId(artifact.id)}`;
  document.title = `${title} · artifactd`;
  return h(
    'section',
    { class: 'page artifact-page', 'data-id': artifact.id },
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, link('/artifacts', 'Artifacts'), key !== null ? [' / ', link(keyPath(key), key)] : null, ' / ', h('span', { class: 'mono' }, shortId(artifact.id))),
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, title),
      h('span', { class: `badge type-${artifact.type ?? 'none'}` }, artifact.type ?? 'no type'),
      isLatest ? h('span', { class: 'badge latest', 'data-testid': 'latest' }, 'Latest') : null,
      latest !== null && !isLatest ? link(artifactPath(latest.latest_id), h('span', { class: 'small' }, 'Go to the latest version')) : null,
      h('span', { class: 'spacer' }),
      deleteControl(artifact, versions, isLatest),
    ),
    artifact.description ? h('div', { class: 'markdown description', 'data-testid': 'description' }, renderMarkdown(artifact.description)) : null,
    h('div', { class: 'layout' }, h('article', { class: 'card content', 'data-testid': 'content' }, renderData(artifact)), details(artifact, versions)),
  );
}

function details(artifact: Artifact, versions: number): HTMLElement {
  const row = (label: string, value: Child) => [h('dt', {}, label), h('dd', {}, value)];
  const metadata = Object.entries(artifact.metadata_ ?? {});
  return h(
    'aside',
    { class: 'card details' },
    h('h2', {}, 'Details'),
    h(
      'dl',
      {},
      row('ID', h('span', { class: 'mono', 'data-testid': 'artifact-id' }, artifact.id)),
      row('Key', artifact.key !== null ? [link(keyPath(artifact.key), artifact.key), h('div', { class: 'small muted' }, plural(versions, 'version'))] : h('span', { class: 'muted' }, 'none')),
      row('Type', artifact.type ?? '—'),
      row('Created', h('time', { datetime: artifact.created, title: formatRelative(artifact.created) }, formatDateTime(artifact.created))),
      row('Updated', h('time', { datetime: artifact.updated, title: formatRelative(artifact.updated) }, formatDateTime(artifact.updated))),
      row('Flow run', artifact.flow_run_id ? link(flowRunPath(artifact.flow_run_id), h('span', { class: 'mono', 'data-testid': 'flow-run-id' }, artifact.flow_run_id)) : h('span', { class: 'muted' }, 'none')),
      row('Task run', artifact.task_run_id ? h('span', { class: 'mono', 'data-testid': 'task-run-id' }, artifact.task_run_id) : h('span', { class: 'muted' }, 'none')),
    ),
    h('h2', {}, 'Metadata'),
    metadata.length === 0
      ? h('p', { class: 'muted' }, 'None')
      : h('table', { class: 'data metadata' }, h('tbody', {}, metadata.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v))))),
  );
}

/** The delete button and its confirmation dialog; afterwards, the key's history or the list. */
function deleteControl(artifact: Artifact, versions: number, isLatest: boolean): HTMLElement {
  const error = h('p', { class: 'error', hidden: true });
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const confirm = h('button', { type: 'button', class: 'danger', 'data-testid': 'confirm-delete' }, 'Delete');
  const what = artifact.key !== null ? `this version of “${artifact.key}”` : 'this artifact';
  const dialog = h(
    'dialog',
    { class: 'confirm', 'aria-labelledby': 'confirm-title' },
    h('h2', { id: 'confirm-title' }, 'Delete artifact?'),
    h('p', {}, `Delete ${what}? This cannot be undone.`),
    isLatest && versions > 1 ? h('p', { class: 'muted small' }, 'It is the latest version: the previous one becomes the latest.') : null,
    error,
    h('div', { class: 'actions' }, cancel, confirm),
  );
  cancel.addEventListener('click', () => dialog.close());
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    try {
      await deleteArtifact(artifact.id);
      dialog.close();
      toast('Artifact deleted');
      navigate(artifact.key !== null && versions > 1 ? keyPath(artifact.key) : '/artifacts', true); // replace: Back must not lead to the deleted page
    } catch (e) {
      error.textContent = `Could not delete: ${e instanceof Error ? e.message : String(e)}`;
      error.hidden = false;
      confirm.disabled = false;
    }
  });
  const open = h('button', { type: 'button', class: 'danger outline', 'data-testid': 'delete' }, 'Delete');
  open.addEventListener('click', () => {
    error.hidden = true;
    dialog.showModal();
  });
  return h('span', { class: 'delete-control' }, open, dialog);
}
