/**
 * The PostgreSQL store's invariant violations (empty when sound), as the LMDB check finds them
 * (lmdb/check.ts) — what the schema does not enforce by itself: each key's collection names its
 * newest version by (created, id) and mirrors its fields; no collection without versions; no
 * key with versions but no collection; no keyless or NUL-free oddities the write paths never make;
 * each event has exactly its resource rows (check-events.ts). Indexes need no check here:
 * PostgreSQL keeps them. The row counters (schema-counters.ts) are checked: each table's must sum
 * to its count(*), or the counts the API and /metrics answer drift.
 *
 * Reads run in one REPEATABLE READ transaction: one snapshot, so concurrent writes cannot
 * make a sound store look broken.
 */
import type { Db } from './db.ts';
import { run } from './db.ts';
import { eventFindings } from './check-events.ts';
import { COUNTED_TABLES } from './schema-counters.ts';

const MIRRORED = ['type', 'description', 'data', 'metadata_', 'flow_run_id', 'task_run_id'] as const;

export async function checkStore(db: Db): Promise<string[]> {
  const findings: string[] = [];
  await db.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
    // A collection whose key has no version.
    const orphans = await run<{ key: string }>(
      tx,
      `SELECT c.key FROM artifact_collection c WHERE NOT EXISTS (SELECT 1 FROM artifact a WHERE a.key = c.key) ORDER BY c.key`,
    );
    for (const { key } of orphans) findings.push(`collections: key ${JSON.stringify(key)} has no artifact`);

    // A key with versions but no collection.
    const missing = await run<{ key: string }>(
      tx,
      `SELECT DISTINCT a.key FROM artifact a WHERE a.key IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM artifact_collection c WHERE c.key = a.key) ORDER BY a.key`,
    );
    for (const { key } of missing) findings.push(`collections: key ${JSON.stringify(key)} has no collection`);

    // A collection that does not name its newest version, or does not mirror it.
    const differ = MIRRORED.map((column) => `c.${column} IS DISTINCT FROM n.${column}`).join(' OR ');
    const wrong = await run<{ key: string; latest_id: string; newest: string; mirrors: boolean }>(
      tx,
      `SELECT c.key, c.latest_id, n.id AS newest, NOT (${differ}) AS mirrors
       FROM artifact_collection c
       CROSS JOIN LATERAL (
         SELECT a.id, ${MIRRORED.map((m) => `a.${m}`).join(', ')} FROM artifact a
         WHERE a.key = c.key ORDER BY a.created DESC, a.id DESC LIMIT 1
       ) AS n
       WHERE n.id <> c.latest_id OR ${differ}
       ORDER BY c.key`,
    );
    for (const row of wrong) {
      if (row.newest !== row.latest_id) findings.push(`collections: key ${JSON.stringify(row.key)} names ${row.latest_id}, newest is ${row.newest}`);
      else findings.push(`collections: key ${JSON.stringify(row.key)} does not mirror its latest version`);
    }

    // Stored JSON the replies splice must parse (data always; metadata_ when set, as an object).
    const unparsable = await run<{ id: string; data: string; metadata_: string | null }>(
      tx,
      `SELECT id, data, metadata_ FROM artifact WHERE data = '' OR (metadata_ IS NOT NULL AND left(metadata_, 1) <> '{')`,
    );
    for (const row of unparsable) findings.push(`artifacts: ${row.id} holds data or metadata that is not JSON`);

    findings.push(...(await eventFindings(tx)));

    // Each counted table's counters against its rows (same snapshot: a writer moves both at once).
    const counted = await run<{ name: string; counted: string | null; actual: string }>(
      tx,
      COUNTED_TABLES.map(
        (t) => `SELECT '${t}' AS name, (SELECT sum(n)::text FROM artifactd_counter WHERE name = '${t}') AS counted, (SELECT count(*)::text FROM ${t}) AS actual`,
      ).join(' UNION ALL '),
    );
    for (const row of counted) {
      if (row.counted === null) findings.push(`counters: ${row.name} has no counter rows (it holds ${row.actual})`);
      else if (row.counted !== row.actual) findings.push(`counters: ${row.name} counts ${row.counted}, the table holds ${row.actual}`);
    }
  });
  return findings;
}
