/**
 * Request bodies, read once as text so the store can keep an artifact's `data` exactly as sent.
 * JSON is parsed whatever the content type (Prefect requires `application/json`; accepting
 * `curl -d` without a header is friendlier and no client relies on the refusal).
 */
import { ApiError } from './errors.ts';
import { describeJsonError } from './json-text.ts';

export interface JsonBody {
  /** False for an absent or empty body. */
  present: boolean;
  text: string;
  value: unknown;
}

export async function readJsonBody(request: Request): Promise<JsonBody> {
  const text = await request.text();
  if (text.length === 0) return { present: false, text, value: undefined };
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
