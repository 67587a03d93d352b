/**
 * The five sorts as total orders. Index walks produce exactly these orders; the comparators
 * reproduce them for candidate sets gathered from a narrower index. Ties fall back to created
 * time and then id, so paging through equal keys or timestamps is stable.
 */
import type { Sort } from '../../../schemas/artifacts.ts';
import type { ArtifactView, CollectionView } from '../../records.ts';

type Compare<T> = (a: T, b: T) => number;

const desc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);
const asc = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** KEY_ASC puts keyless rows first and KEY_DESC last, like Prefect's default SQLite server. */
function keyAsc(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return asc(a, b);
}

type Row = { id: string; created: number; updated: number };

/** The sorts that read the same on artifacts and collections: by time, then id; by id. */
function timeOrIdOrder<T extends Row>(sort: 'CREATED_DESC' | 'UPDATED_DESC' | 'ID_DESC'): Compare<T> {
  if (sort === 'CREATED_DESC') return (a, b) => b.created - a.created || desc(a.id, b.id);
  if (sort === 'UPDATED_DESC') return (a, b) => b.updated - a.updated || desc(a.id, b.id);
  return (a, b) => desc(a.id, b.id);
}

export function artifactOrder(sort: Sort): Compare<ArtifactView> {
  switch (sort) {
    case 'KEY_ASC':
      return (a, b) => keyAsc(a.key, b.key) || a.created - b.created || asc(a.id, b.id);
    case 'KEY_DESC':
      return (a, b) => keyAsc(b.key, a.key) || b.created - a.created || desc(a.id, b.id);
    default:
      return timeOrIdOrder(sort);
  }
}

export function collectionOrder(sort: Sort): Compare<CollectionView> {
  switch (sort) {
    case 'KEY_ASC':
      return (a, b) => asc(a.key, b.key);
    case 'KEY_DESC':
      return (a, b) => desc(a.key, b.key);
    default:
      return timeOrIdOrder(sort);
  }
}
