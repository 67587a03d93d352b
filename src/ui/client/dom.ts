/**
 * Building DOM nodes without HTML strings: text is always a text node, so nothing from an
 * artifact is ever parsed as markup here (markdown goes through markdown.ts instead).
 */

export type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined;
type Attrs = Record<string, AttrValue | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else if (child !== null && child !== undefined && child !== false) parent.appendChild(document.createTextNode(String(child)));
  }
}

// ── Client-side navigation ──────────────────────────────────────────────────────────────────

let navigateHandler: (path: string, replace: boolean) => void = (path) => location.assign(path);

/** Set by main.ts: renders a path without reloading the page. */
export function onNavigate(handler: (path: string, replace: boolean) => void): void {
  navigateHandler = handler;
}

export function navigate(path: string, replace = false): void {
  navigateHandler(path, replace);
}

/**
 * A link to one of the UI's own pages. Only links made here are routed in the page
 * (`data-route`); links inside rendered markdown are ordinary links.
 */
export function link(path: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href: path, 'data-route': true }, ...children);
}

export const artifactPath = (id: string) => `/artifacts/artifact/${encodeURIComponent(id)}`;
export const keyPath = (key: string) => `/artifacts/key/${encodeURIComponent(key)}`;
export const flowRunPath = (id: string) => `/runs/flow-run/${encodeURIComponent(id)}`;

/**
 * A titled part of a page: a card with an `h2` (which names it for assistive technology), what
 * goes beside the heading (`aside`: counts, controls), then the body. `testid` also makes the
 * heading's id, `${testid}-heading`.
 */
export function section(title: string, testid: string, aside: Child[], ...body: Child[]): HTMLElement {
  const heading = h('h2', { id: `${testid}-heading` }, title);
  return h('section', { class: 'card run-section', 'data-testid': testid, 'aria-labelledby': heading.id }, h('div', { class: 'section-head' }, heading, aside), body);
}

/** A short, transient message at the bottom of the window. */
export function toast(text: string): void {
  const note = h('div', { class: 'toast', role: 'status' }, text);
  document.body.appendChild(note);
  setTimeout(() => note.remove(), 4000);
}
