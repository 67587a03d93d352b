/**
 * Request bodies, read once as text so the store can keep an artifact's `data` exactly as sent.
 * JSON is parsed whatever the content type (Prefect requires `application/json`; accepting
 * `curl -d` without a header is friendlier and no client relies on the refusal).
 */
import { ApiError } from './errors.ts';
import { describeJsonError, nestingDepth } from './json-text.ts';

/**
 * Prefect's detail body with the limit in it. The connection is closed after it: the rest of an
 * oversized body is never read, so the connection could not carry another request.
 */
function tooLarge(limits: BodyLimits): ApiError {
  return new ApiError(413, { detail: `Request body too large: the limit is ${limits.maxBodyBytes} bytes.` }, { connection: 'close' });
}

export interface JsonBody {
  /** False for an absent or empty body. */
  present: boolean;
  text: string;
  value: unknown;
}

/** What a body may be: its size in bytes and how deeply its arrays and objects nest. */
export interface BodyLimits {
  maxBodyBytes: number;
  maxJsonDepth: number;
}

/**
 * The body as text, never more than the limit read into memory. Bun's own limit is set out of
 * reach (serve.ts), since it answers a bare 413 without Prefect's body; the limit is kept here:
 * a declared `Content-Length` over it is refused before reading, and a chunked body is counted
 * as it arrives and refused at the first byte past it.
 */
async function boundedText(request: Request, limits: BodyLimits): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (Number(declared) > limits.maxBodyBytes) throw tooLarge(limits);
    return request.text();
  }
  if (request.body === null) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limits.maxBodyBytes) {
      void reader.cancel().catch(() => {});
      throw tooLarge(limits);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

export async function readJsonBody(request: Request, limits: BodyLimits): Promise<JsonBody> {
  const text = await boundedText(request, limits);
  if (text.length === 0) return { present: false, text, value: undefined };
  // UTF-16 length ≤ UTF-8 length ≤ 3 × UTF-16 length: measure bytes only when it can matter.
  if (text.length * 3 > limits.maxBodyBytes && Buffer.byteLength(text) > limits.maxBodyBytes) throw tooLarge(limits);
  if (text.length > limits.maxJsonDepth * 2) {
    const depth = nestingDepth(text);
    if (depth > limits.maxJsonDepth) {
      throw new ApiError(422, {
        exception_message: 'Invalid request received.',
        exception_detail: [
          {
            type: 'json_invalid',
            loc: ['body', 0],
            msg: 'JSON decode error',
            input: {},
            ctx: { error: `Nesting too deep: ${depth} levels, the limit is ${limits.maxJsonDepth}` },
          },
        ],
        request_body: null,
      });
    }
  }
  try {
    return { present: true, text, value: JSON.parse(text) };
  } catch {
    const { message, position } = describeJsonError(text);
    throw new ApiError(422, {
      exception_message: 'Invalid request received.',
      exception_detail: [
        { type: 'json_invalid', loc: ['body', position], msg: 'JSON decode error', input: {}, ctx: { error: message } },
      ],
      request_body: text,
    });
  }
}
