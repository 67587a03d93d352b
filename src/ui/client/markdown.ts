/**
 * Markdown from artifacts, rendered safely: marked turns it into HTML, DOMPurify keeps only
 * inert HTML (no script, no event handler, no style, no SVG/MathML, no forms), and a hook keeps
 * only http(s) and mailto links and http(s) images. The page's Content-Security-Policy is a
 * second wall behind this one.
 */
import DOMPurify, { type Config } from 'dompurify';
import { marked } from 'marked';

const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
const IMAGE_PROTOCOLS = new Set(['http:', 'https:']);

function protocolOf(url: string): string | null {
  try {
    return new URL(url, location.href).protocol;
  } catch {
    return null;
  }
}

let hooked = false;

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (!(node instanceof Element)) return;
    const href = node.getAttribute('href');
    if (href !== null) {
      const protocol = protocolOf(href);
      if (protocol === null || !LINK_PROTOCOLS.has(protocol)) node.removeAttribute('href');
      else if (node.tagName === 'A') {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    }
    if (node.tagName === 'IMG') {
      const src = node.getAttribute('src') ?? '';
      const protocol = protocolOf(src);
      if (protocol === null || !IMAGE_PROTOCOLS.has(protocol) || src.trim() === '') node.removeAttribute('src');
      node.setAttribute('referrerpolicy', 'no-referrer');
      node.setAttribute('loading', 'lazy');
    }
  });
}

const PURIFY_CONFIG: Config & { RETURN_DOM_FRAGMENT: true } = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'button', 'textarea', 'select', 'option', 'iframe', 'frame', 'object', 'embed', 'base', 'meta', 'link'],
  FORBID_ATTR: ['style', 'srcset', 'action', 'formaction', 'ping'],
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};

/** Sanitized HTML nodes for a markdown text, ready to append. */
export function renderMarkdown(source: string): DocumentFragment {
  installHooks();
  const html = marked.parse(source, { async: false, gfm: true });
  return DOMPurify.sanitize(html, PURIFY_CONFIG);
}
