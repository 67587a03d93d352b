/**
 * The page's entry point: a client-side router over Prefect's UI paths (the server answers
 * each with the same HTML), the sign-in form shown when the API answers 401, and the error
 * and not-found views.
 */
import { ApiError, hasCredentials, signIn, signOut, SignInRequired } from './api.ts';
import { artifactPage } from './artifact-page.ts';
import { h, onNavigate } from './dom.ts';
import { listPage } from './list-page.ts';
import { flowRunPage } from './flow-run-page.ts';
import { keyPage } from './run-pages.ts';

type Page = (match: RegExpExecArray, params: URLSearchParams) => Promise<HTMLElement>;

/** A path segment, decoded; a malformed escape is kept as typed (the API then answers not found). */
function segment(match: RegExpExecArray): string {
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

const ROUTES: [RegExp, Page][] = [
  [/^\/(?:artifacts\/?)?$/, (_, params) => listPage(params)],
  [/^\/artifacts\/artifact\/([^/]+)\/?$/, (m) => artifactPage(segment(m))],
  [/^\/artifacts\/key\/([^/]+)\/?$/, (m) => keyPage(segment(m))],
  [/^\/runs\/flow-run\/([^/]+)\/?$/, (m) => flowRunPage(segment(m))],
];

const app = document.getElementById('app')!;
let generation = 0;

async function render(): Promise<void> {
  const mine = ++generation;
  const path = location.pathname;
  document.title = 'Artifacts · artifactd';
  let view: HTMLElement;
  try {
    const route = ROUTES.find(([pattern]) => pattern.test(path));
    view = route ? await route[1](route[0].exec(path)!, new URLSearchParams(location.search)) : notFound('There is no page here.');
  } catch (error) {
    view = failure(error);
  }
  if (mine !== generation) return; // the user moved on while this page loaded
  app.replaceChildren(view);
  app.querySelector<HTMLElement>('[autofocus]')?.focus();
  updateSignOut();
}

function go(path: string, replace: boolean): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.scrollTo(0, 0);
  void render();
}

function notFound(text: string): HTMLElement {
  return h('section', { class: 'page' }, h('h1', {}, 'Not found'), h('p', { class: 'notice' }, text, ' ', h('a', { href: '/artifacts', 'data-route': true }, 'See all artifacts')));
}

function failure(error: unknown): HTMLElement {
  if (error instanceof SignInRequired) return signInForm();
  if (error instanceof ApiError && (error.status === 404 || error.status === 422)) return notFound('This artifact does not exist (any more).');
  const message = error instanceof Error ? error.message : String(error);
  return h('section', { class: 'page' }, h('h1', {}, 'Something went wrong'), h('p', { class: 'notice error' }, message), h('button', { type: 'button', onclick: () => void render() }, 'Try again'));
}

/** Shown when the API answers 401: the server runs with an auth string (--auth-string). */
function signInForm(): HTMLElement {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'error', hidden: true, role: 'alert' });
  const form = h(
    'form',
    { class: 'card sign-in' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'muted' }, 'This server requires the user name and password it was started with (', h('code', {}, '--auth-string'), ').'),
    h('label', {}, 'User name', user),
    h('label', {}, 'Password', password),
    error,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (await signIn(user.value, password.value)) void render();
    else {
      error.textContent = 'Those credentials were refused.';
      error.hidden = false;
    }
  });
  return h('section', { class: 'page narrow' }, form);
}

function updateSignOut(): void {
  const nav = document.querySelector('.topbar nav')!;
  nav.querySelector('.sign-out')?.remove();
  if (!hasCredentials()) return;
  nav.append(
    h('button', {
      type: 'button',
      class: 'link sign-out',
      onclick: () => {
        signOut();
        void render();
      },
    }, 'Sign out'),
  );
}

// Links made by the pages (data-route) render in place; everything else navigates normally.
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.('a');
  if (!anchor || !(anchor.hasAttribute('data-route') || anchor.closest('.topbar')) || anchor.target) return;
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin) return;
  event.preventDefault();
  go(url.pathname + url.search, false);
});
window.addEventListener('popstate', () => void render());
onNavigate(go);
void render();
