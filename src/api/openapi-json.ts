/**
 * The OpenAPI document where Prefect 3.0.0 serves it. Prefect's API app is mounted at `/api`, and
 * FastAPI publishes its document twice: `GET /api/openapi.json` with paths relative to the mount
 * (`/artifacts/filter`, no `servers`, exactly as shared/spec/reference/…-openapi-artifacts.json),
 * and the root app's `GET /openapi.json` with the paths under `/api`, which its `/docs` loads.
 * Both come from the one document the swagger plugin generates (`/docs/json`, `/api` paths),
 * fetched once and kept as JSON text.
 */

export interface OpenApiDocument {
  paths?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface OpenApiTexts {
  /** Paths under `/api`: the root app's `/openapi.json`. */
  prefixed: string;
  /** Paths relative to the `/api` mount: `/api/openapi.json`. */
  mounted: string;
}

const MOUNT = '/api';

/** The document as the API app mounted at `/api` publishes it: other paths are not the app's. */
export function relativeToMount(document: OpenApiDocument): OpenApiDocument {
  const paths: Record<string, unknown> = {};
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    if (path.startsWith(`${MOUNT}/`)) paths[path.slice(MOUNT.length)] = item;
  }
  return { ...document, paths };
}

/**
 * Serves the two documents from `generate` (called once; a failure is retried on the next
 * request). Answers are JSON, as FastAPI's.
 */
export class OpenApiDocuments {
  private texts: OpenApiTexts | undefined;
  private pending: Promise<OpenApiTexts> | undefined;

  constructor(private readonly generate: () => Promise<OpenApiDocument>) {}

  response(which: keyof OpenApiTexts, head = false): Response | Promise<Response> {
    const answer = (texts: OpenApiTexts) =>
      new Response(head ? null : texts[which], { headers: { 'content-type': 'application/json' } });
    if (this.texts !== undefined) return answer(this.texts);
    this.pending ??= this.generate().then(
      (document) => (this.texts = { prefixed: JSON.stringify(document), mounted: JSON.stringify(relativeToMount(document)) }),
      (error) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending.then(answer);
  }
}
