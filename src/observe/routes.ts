/**
 * Request path → the route template that answers it (`/api/artifacts/{id}`), so metrics are
 * labelled by route and never by raw path (ids in labels would grow without bound). A trie of
 * path segments built once from the app's routes; a lookup walks one node per segment and
 * allocates nothing but the segment strings. Literal segments win over parameters, as in the
 * router (`/api/artifacts/latest/filter` is not `/api/artifacts/{id}/...`).
 */

interface Node<T> {
  literal: Map<string, Node<T>>;
  param: Node<T> | undefined;
  value: T | undefined;
}

const node = <T>(): Node<T> => ({ literal: new Map(), param: undefined, value: undefined });

/** The router names the `{key}` of `/artifacts/{key}/latest` `id` (one name per position). */
const RENAMED: Record<string, string> = { '/api/artifacts/{id}/latest': '/api/artifacts/{key}/latest' };

/** `/api/artifacts/:id` → `/api/artifacts/{id}`, as the OpenAPI document writes paths. */
export function templateOf(routerPath: string): string {
  const template = routerPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
  return RENAMED[template] ?? template;
}

export class RouteTemplates<T> {
  private readonly root = node<T>();

  /** `make` builds the value kept per template (called once per distinct template). */
  constructor(routerPaths: Iterable<string>, make: (template: string) => T, private readonly unmatched: T) {
    for (const path of new Set(routerPaths)) {
      if (path.includes('*')) continue; // catch-alls would swallow unknown paths
      let at = this.root;
      for (const segment of path.split('/')) {
        if (segment.startsWith(':')) at = at.param ??= node<T>();
        else {
          let next = at.literal.get(segment);
          if (!next) at.literal.set(segment, (next = node<T>()));
          at = next;
        }
      }
      at.value ??= make(templateOf(path));
    }
  }

  lookup(path: string): T {
    return this.walk(this.root, path, 0) ?? this.unmatched;
  }

  /** Matches `path` from index `from` (just past a `/`, or 0 for the leading empty segment). */
  private walk(at: Node<T>, path: string, from: number): T | undefined {
    const slash = path.indexOf('/', from);
    const segment = slash < 0 ? path.slice(from) : path.slice(from, slash);
    const literal = at.literal.get(segment);
    const param = segment === '' ? undefined : at.param;
    if (slash < 0) return literal?.value ?? param?.value;
    return (literal && this.walk(literal, path, slash + 1)) ?? (param && this.walk(param, path, slash + 1));
  }
}
