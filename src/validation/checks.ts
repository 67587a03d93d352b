/**
 * Prefect's custom field validators, named so schemas can ask for them with `'x-check'`. Each
 * returns the problem (Pydantic prefixes "Value error, ") or undefined when the value is fine.
 */
import { MAX_LABELS_PER_RESOURCE } from '../schemas/events.ts';

/** `^[a-z0-9-]*$` under Python's `re.match`, where `$` also matches before one final newline. */
const ARTIFACT_KEY = /^[a-z0-9-]*\n?$/;

/** PREFECT_API_TASK_CACHE_KEY_MAX_LENGTH's default. */
export const CACHE_KEY_MAX_LENGTH = 2000;

/**
 * An event's resource, as Prefect's Resource model validators check it, in their order: the label
 * count, then a non-empty `prefect.resource.id`.
 */
function resourceProblem(labels: Record<string, string>): string | undefined {
  if (Object.keys(labels).length > MAX_LABELS_PER_RESOURCE) return `The maximum number of labels per resource is ${MAX_LABELS_PER_RESOURCE}`;
  if (!Object.hasOwn(labels, 'prefect.resource.id')) return 'Resources must include the prefect.resource.id label';
  if (labels['prefect.resource.id'] === '') return 'The prefect.resource.id label must be non-empty';
  return undefined;
}

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
  resource: resourceProblem,
  // A related resource is a resource that also names its role (RelatedResource's own validator, after Resource's).
  'related-resource': (labels: Record<string, string>) => {
    const problem = resourceProblem(labels);
    if (problem !== undefined) return problem;
    if (!Object.hasOwn(labels, 'prefect.resource.role')) return 'Related Resources must include the prefect.resource.role label';
    if (labels['prefect.resource.role'] === '') return 'The prefect.resource.role label must be non-empty';
    return undefined;
  },
};
