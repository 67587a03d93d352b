/**
 * Index key encodings. lmdb-js orders array keys element by element (numbers numerically,
 * strings byte-wise), so each index below is a sorted list that a range read walks in order.
 * The artifact id or collection id closes every key: keys are unique and ties between equal
 * timestamps or keys have one stable order.
 */

import { indexString } from '../index-keys.ts';

/** A range bound above any real timestamp or id inside a prefix. */
export const HIGH = Number.MAX_SAFE_INTEGER;

/**
 * Artifacts by key, then created: versions of a key in time order, and the KEY_* sorts.
 * lmdb-js cannot store `null` inside an array key, so keyless artifacts get their own prefix 0,
 * which also puts them first in ascending order (the default Prefect server's NULL order).
 */
export const byKeyKey = (key: string | null, created: number, id: string) =>
  key === null ? [0, created, id] : [1, key, created, id];

/** Range of one key's versions, oldest first. */
export const versionsRange = (key: string) => ({ start: [1, key], end: [1, key, HIGH] });

export const byTimeKey = (micros: number, id: string) => [micros, id];
export const byRunKey = (runId: string, id: string) => [runId, id];
export const runRange = (runId: string) => ({ start: [runId], end: [runId, '\uffff'] });

/**
 * Artifact types are client strings of any length: index keys take them through `indexString`
 * (exact lookups only), and NULL as "" (which `indexString` never returns).
 */
export const typeKey = (type: string | null) => (type === null ? '' : indexString(type));
export const byTypeKey = (type: string | null, id: string) => [typeKey(type), id];
/**
 * The counter of a table's rows of one type (layout version 9): what sizes a type list for the
 * planner and answers counts by type, where counting the type index's range reads each entry.
 */
export const typeCounter = (table: 'artifacts' | 'collections', type: string | null) => `${table}.type:${typeKey(type)}`;
/** The prefix every type counter of a table starts with. */
export const typeCounterPrefix = (table: 'artifacts' | 'collections') => `${table}.type:`;
/** Range of one prefix (a type key or a run id) of a two-part index key. */
export const prefixRange = (prefix: string) => ({ start: [prefix], end: [prefix, '\uffff'] });
