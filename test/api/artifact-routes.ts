/**
 * What the artifact filter tests (artifacts-filter, artifacts-latest-filter and the run-filter
 * world) share: the four filter/count routes, the artifact sorts with Pydantic's enum text for
 * them, a few fixed run ids, and sorting helpers for comparing id or key lists.
 */

export const FILTER = '/api/artifacts/filter';
export const COUNT = '/api/artifacts/count';
export const LATEST_FILTER = '/api/artifacts/latest/filter';
export const LATEST_COUNT = '/api/artifacts/latest/count';
export const ALL_ROUTES = [FILTER, COUNT, LATEST_FILTER, LATEST_COUNT];

/** Run ids artifacts are linked to (runs need not exist: the links are not foreign keys). */
export const FR1 = '11111111-1111-4111-8111-111111111111';
export const FR2 = '22222222-2222-4222-8222-222222222222';
export const TR1 = '33333333-3333-4333-8333-333333333333';
export const TR2 = '44444444-4444-4444-8444-444444444444';
/** An id nothing carries. */
export const UNKNOWN = '99999999-9999-4999-8999-999999999999';

/** The sorts of /filter and /latest/filter, and the `expected` text of their enum error. */
export const SORTS = ['CREATED_DESC', 'UPDATED_DESC', 'ID_DESC', 'KEY_DESC', 'KEY_ASC'] as const;
export const SORT_EXPECTED = "'CREATED_DESC', 'UPDATED_DESC', 'ID_DESC', 'KEY_DESC' or 'KEY_ASC'";

export const sorted = (xs: string[]) => [...xs].sort();
