/** Responses built from JSON text the store already shaped: no re-serialization on the way out. */

// One Headers instance: each Response copies it (cheaper than converting a plain object per reply).
const JSON_HEADERS = new Headers({ 'content-type': 'application/json' });

/**
 * A JSON response that keeps its text at hand, so the gzip step (compress.ts) can measure and
 * compress it synchronously instead of reading the body back through a promise. A subclass costs
 * nothing measurable over a plain Response (a WeakMap beside it cost ~60 ns per reply).
 */
export class JsonResponse extends Response {
  /** Only `content-type: application/json` (the gzip step then reuses one set of headers). */
  readonly hasPlainHeaders: boolean;
  constructor(
    status: number,
    readonly bodyText: string,
    headers: Headers | Record<string, string> = JSON_HEADERS,
  ) {
    super(bodyText, { status, headers });
    this.hasPlainHeaders = headers === JSON_HEADERS;
  }
}

export const jsonText = (status: number, text: string) => new JsonResponse(status, text);

export const jsonValue = (status: number, value: unknown) => jsonText(status, JSON.stringify(value));

export const noContent = () => new Response(null, { status: 204 });
