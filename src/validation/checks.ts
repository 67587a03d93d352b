/**
 * Prefect's custom field validators, named so schemas can ask for them with `'x-check'`. Each
 * returns the problem (Pydantic prefixes "Value error, ") or undefined when the value is fine.
 */

/** `^[a-z0-9-]*$` under Python's `re.match`, where `$` also matches before one final newline. */
const ARTIFACT_KEY = /^[a-z0-9-]*\n?$/;

/** PREFECT_API_TASK_CACHE_KEY_MAX_LENGTH's default. */
export const CACHE_KEY_MAX_LENGTH = 2000;

export const CHECKS: Record<string, (value: any) => string | undefined> = {
  'artifact-key': (key: string) =>
    ARTIFACT_KEY.test(key) ? undefined : 'Artifact key must only contain lowercase letters, numbers, and dashes.',
  'cache-key-length': (key: string) =>
    key.length > CACHE_KEY_MAX_LENGTH
      ? `Cache key exceeded maximum allowed length of ${CACHE_KEY_MAX_LENGTH} characters.`
      : undefined,
  'retry-delays': (delay: unknown) =>
    Array.isArray(delay) && delay.length > 50 ? 'Can not configure more than 50 retry delays per task.' : undefined,
  'jitter-not-negative': (factor: number) => (factor < 0 ? '`retry_jitter_factor` must be >= 0.' : undefined),
};
