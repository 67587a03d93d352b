/**
 * Request bodies, read once as text so the store can keep an artifact's `data` exactly as sent.
 * JSON is parsed whatever the content type (Prefect requires `application/json`; accepting
 * `curl -d` without a header is friendlier and no client relies on the refusal).
 */
import { ApiError } from './errors.ts';
import { describeJsonError, nestingDepth } from './json-text.ts';

function tooLarge(limits: BodyLimits): ApiError {
  return new ApiError(413, { detail: `Request body too large: the limit is ${limits.maxBodyBytes} bytes.` });
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

export async function readJsonBody(request: Request, limits: BodyLimits): Promise<JsonBody> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > limits.maxBodyBytes) throw tooLarge(limits);
  const text = await request.text();
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
