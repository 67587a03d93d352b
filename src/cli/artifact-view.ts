/**
 * How artifacts print for people: the columns of `ls` and `inspect`, shared by the local and
 * the remote source. Times are UTC to the second; `--json` carries the exact values.
 */
import type { ArtifactRow } from './source.ts';
import { firstLine, oneLine, type Column } from './table.ts';

/** `2026-11-29T18:01:02.123456Z` → `2026-11-29 18:01:02`. */
function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');
}

/** `1 artifact version`, `3 artifact versions`: how delete, prune and retention count what they remove. */
export const artifactVersions = (n: number) => `${n} artifact version${n === 1 ? '' : 's'}`;

const text = (value: string | null) => value ?? '';

export const columns = {
  /** The artifact id; for a latest row, the latest version's id (what `delete --id` takes). */
  id: { header: 'ID', value: (a) => a.latest_id ?? a.id, fixed: true },
  key: { header: 'KEY', value: (a) => text(a.key) },
  type: { header: 'TYPE', value: (a) => text(a.type) },
  created: { header: 'CREATED', value: (a) => shortTime(a.created) },
  updated: { header: 'UPDATED', value: (a) => shortTime(a.updated) },
  description: { header: 'DESCRIPTION', value: (a) => firstLine(a.description), flexible: true },
  data: { header: 'DATA', value: (a) => oneLine(typeof a.data === 'string' ? a.data : JSON.stringify(a.data)), flexible: true },
} satisfies Record<string, Column<ArtifactRow>>;
