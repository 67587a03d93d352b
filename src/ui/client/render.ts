/**
 * An artifact's `data`, rendered by its type as Prefect's UI renders it: markdown and link as
 * markdown, table as a table, progress as a bar, image as an image (http(s) only), anything
 * else as pretty-printed JSON.
 */
import type { Artifact } from './api.ts';
import { h } from './dom.ts';
import { renderMarkdown } from './markdown.ts';

export function renderData(artifact: Pick<Artifact, 'type' | 'data'>): Node {
  const { type, data } = artifact;
  switch (type) {
    case 'markdown':
    case 'link':
      return typeof data === 'string' ? h('div', { class: 'markdown', 'data-render': type }, renderMarkdown(data)) : json(data);
    case 'table':
      return renderTable(data);
    case 'progress':
      return renderProgress(data);
    case 'image':
      return renderImage(data);
    default:
      return json(data);
  }
}

function json(data: unknown): HTMLElement {
  // A JSON-encoded string (as `result` artifacts carry) reads better decoded.
  let value = data;
  if (typeof data === 'string') {
    try {
      const parsed: unknown = JSON.parse(data);
      if (parsed !== null && typeof parsed === 'object') value = parsed;
    } catch {
      /* not JSON: shown as the string it is */
    }
  }
  return h('pre', { class: 'json', 'data-render': 'json' }, JSON.stringify(value, null, 2) ?? 'null');
}

// ── Tables ─────────────────────────────────────────────────────────────────────────────────

interface TableData {
  columns: string[];
  rows: unknown[][];
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A table from `data`, which Prefect's `create_table_artifact` sends JSON-encoded as a list of
 * rows (objects), a dict of columns (lists), or a list of lists; null for anything else.
 */
function tableOf(data: unknown): TableData | null {
  let value = data;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (Array.isArray(value)) {
    if (value.every(Array.isArray)) {
      const width = Math.max(0, ...value.map((row: unknown[]) => row.length));
      return { columns: Array.from({ length: width }, (_, i) => String(i)), rows: value as unknown[][] };
    }
    if (value.every(isRecord)) {
      const columns = [...new Set(value.flatMap((row) => Object.keys(row)))];
      return { columns, rows: value.map((row) => columns.map((c) => row[c])) };
    }
    return null;
  }
  if (isRecord(value) && Object.values(value).every(Array.isArray)) {
    const columns = Object.keys(value);
    const lists = Object.values(value) as unknown[][];
    const height = Math.max(0, ...lists.map((list) => list.length));
    return { columns, rows: Array.from({ length: height }, (_, i) => lists.map((list) => list[i])) };
  }
  return null;
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** More rows than this are not put in the page at once (the rest is one click away). */
const ROW_BATCH = 500;

function renderTable(data: unknown): Node {
  const table = tableOf(data);
  if (table === null) return json(data);
  const body = h('tbody');
  const rows = table.rows.map((row) =>
    h('tr', {}, table.columns.map((_, i) => h('td', { title: cellText(row[i]).length > 80 ? cellText(row[i]) : null }, cellText(row[i])))),
  );
  const more = h('button', { type: 'button', class: 'secondary', hidden: rows.length <= ROW_BATCH }, `Show all ${rows.length.toLocaleString()} rows`);
  let shown = Math.min(ROW_BATCH, rows.length);
  body.append(...rows.slice(0, shown));
  more.addEventListener('click', () => {
    body.append(...rows.slice(shown));
    shown = rows.length;
    more.hidden = true;
  });
  const count = h('span', { class: 'muted' }, `${table.rows.length.toLocaleString()} rows × ${table.columns.length} columns`);
  const search = h('input', { type: 'search', placeholder: 'Filter rows', 'aria-label': 'Filter rows' });
  search.addEventListener('input', () => {
    const needle = search.value.trim().toLowerCase();
    if (needle !== '' && shown < rows.length) more.click();
    for (const row of rows) row.hidden = needle !== '' && !(row.textContent ?? '').toLowerCase().includes(needle);
  });
  return h(
    'div',
    { class: 'table-artifact', 'data-render': 'table' },
    h('div', { class: 'toolbar' }, count, search),
    table.columns.length === 0
      ? h('p', { class: 'muted' }, 'The table is empty.')
      : h('div', { class: 'table-scroll' }, h('table', { class: 'data' }, h('thead', {}, h('tr', {}, table.columns.map((c) => h('th', { scope: 'col' }, c)))), body)),
    more,
  );
}

// ── Progress and images ────────────────────────────────────────────────────────────────────

function renderProgress(data: unknown): Node {
  const value = typeof data === 'number' ? data : typeof data === 'string' && data.trim() !== '' ? Number(data) : NaN;
  if (!Number.isFinite(value)) return json(data);
  // The bar cannot run past its ends, but the label says what the artifact holds.
  const percent = Math.min(100, Math.max(0, value));
  const label = `${Number(value.toFixed(2))}%`;
  const fill = h('div', { class: 'progress-fill' });
  fill.style.width = `${percent}%`; // CSSOM, which the page's style-src policy allows
  return h(
    'div',
    { class: 'progress-artifact', 'data-render': 'progress' },
    h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': percent, 'aria-label': 'Progress' }, fill),
    h('p', { class: 'progress-label' }, h('strong', {}, label), ' complete'),
  );
}

/** An http(s) URL, or null: images never load from javascript:, data: or file: URLs. */
export function imageUrl(data: unknown): string | null {
  if (typeof data !== 'string') return null;
  try {
    const url = new URL(data.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function renderImage(data: unknown): Node {
  const url = imageUrl(data);
  if (url === null) {
    return h('div', { class: 'notice', 'data-render': 'image-refused' }, 'This image is not shown: only http(s) image URLs are loaded.', json(data));
  }
  return h(
    'figure',
    { class: 'image-artifact', 'data-render': 'image' },
    h('img', { src: url, alt: 'Artifact image', referrerpolicy: 'no-referrer', loading: 'lazy' }),
    h('figcaption', {}, h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, url)),
  );
}
