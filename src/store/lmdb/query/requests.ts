/**
 * The four artifact queries (`filter`, `latest/filter`, `count`, `latest/count`) as data, so that
 * one description runs wherever it is sent: in slices on the server's thread, or on the query
 * thread (query-thread.ts) when it runs long. A request holds the body's validated values; the
 * work it names resolves the run filters to run-id sets, then runs the store's query on them.
 */
import type { QueryAnswer, QueryRequest } from '../../contract.ts';
import type { Sort } from '../../../schemas/artifacts.ts';
import type { ArtifactCollectionFilter, ArtifactFilter } from '../../../schemas/filters.ts';
import type { LmdbStore as Store } from '../store.ts';
import { resolveRunSetsSliced, type RunFilters } from './runs.ts';
import type { Sliced } from './slices.ts';

export type { QueryAnswer, QueryRequest, QueryRoute } from '../../contract.ts';

export function* queryWork(store: Store, { route, values, limit }: QueryRequest): Sliced<QueryAnswer> {
  const paged = route === 'filter' || route === 'latest/filter';
  // A page leaves name patterns to be tested per run as its walk meets them (runs.ts lazyScans).
  const runs = yield* resolveRunSetsSliced(store, values as RunFilters, { lazyScans: paged });
  const page = { offset: (values.offset as number) ?? 0, limit };
  const sort = (values.sort as Sort) ?? 'ID_DESC';
  const artifacts = store.artifacts;
  switch (route) {
    case 'filter':
      return yield* artifacts.findJsonSliced(values.artifacts as ArtifactFilter | undefined, sort, page, runs);
    case 'latest/filter':
      return yield* artifacts.findLatestJsonSliced(values.artifacts as ArtifactCollectionFilter | undefined, sort, page, runs);
    case 'count':
      return yield* artifacts.countSliced(values.artifacts as ArtifactFilter | undefined, runs);
    case 'latest/count':
      return yield* artifacts.countLatestSliced(values.artifacts as ArtifactCollectionFilter | undefined, runs);
  }
}
