/**
 * What `artifactd check` verifies of events (check.ts runs it in its snapshot): `event_resource`
 * has no foreign key (schema-logs-events.ts), so its agreement with `event` is checked here — no
 * resource row without its event; each event's rows numbered 0 … n-1, n being one plus the
 * related resources its JSON lists, row 0 its primary resource (role ''), every row carrying the
 * event's `occurred`. Logs need nothing beyond their counters (check.ts).
 */
import { run, type Tx } from './db.ts';

/**
 * The event's `related` list, as json. PostgreSQL's json functions refuse the escape \u0000 in a
 * string (no text can hold it); turned into \u0001 first, strings change and lengths do not (an
 * escaped backslash before `u0000` stays an escaped backslash).
 */
const RELATED = `replace(e.json, chr(92) || 'u0000', chr(92) || 'u0001')::json -> 'related'`;

/** Findings listed per kind before the rest are summed up. */
const SHOWN = 20;

export async function eventFindings(tx: Tx): Promise<string[]> {
  const findings: string[] = [];
  const orphans = await run<{ event_id: string; n: string }>(
    tx,
    `SELECT r.event_id, count(*) OVER ()::text AS n FROM (SELECT DISTINCT event_id FROM event_resource) r
     WHERE NOT EXISTS (SELECT 1 FROM event e WHERE e.id = r.event_id) ORDER BY r.event_id LIMIT ${SHOWN}`,
  );
  for (const row of orphans) findings.push(`events: resource rows of ${row.event_id}, which is not stored`);
  if (orphans.length > 0 && Number(orphans[0].n) > SHOWN) findings.push(`events: … and ${Number(orphans[0].n) - SHOWN} more events not stored`);

  // JSON that does not parse would stop the query; a savepoint turns that into a finding.
  await run(tx, 'SAVEPOINT event_check');
  try {
    const wrong = await run<{ id: string; n: string }>(
      tx,
      `WITH r AS (
         SELECT event_id, count(*) AS n, min(ordinal) AS lo, max(ordinal) AS hi, min(occurred) AS first, max(occurred) AS last
         FROM event_resource GROUP BY event_id
       )
       SELECT e.id, count(*) OVER ()::text AS n FROM event e
       LEFT JOIN r ON r.event_id = e.id
       LEFT JOIN event_resource p ON p.event_id = e.id AND p.ordinal = 0
       WHERE r.event_id IS NULL OR p.event_id IS NULL
          OR r.lo <> 0 OR r.hi <> r.n - 1 OR r.n <> 1 + json_array_length(${RELATED})
          OR r.first <> e.occurred OR r.last <> e.occurred
          OR p.resource_id <> e.resource_id OR p.role <> ''
       ORDER BY e.id LIMIT ${SHOWN}`,
    );
    for (const row of wrong) findings.push(`events: ${row.id} does not have exactly its resource rows`);
    if (wrong.length > 0 && Number(wrong[0].n) > SHOWN) findings.push(`events: … and ${Number(wrong[0].n) - SHOWN} more`);
    await run(tx, 'RELEASE SAVEPOINT event_check');
  } catch (error) {
    await run(tx, 'ROLLBACK TO SAVEPOINT event_check');
    findings.push(`events: a stored event is not JSON (${(error as Error).message})`);
  }
  return findings;
}
