/**
 * The tables of logs and events (migration 3, migrations.ts), and their row counters.
 *
 * Conventions as the other tables (schema-runs.ts, schema-artifacts.ts): ids and names are
 * `COLLATE "C"` text (byte order, whatever the server's locale), times bigint µs since the epoch.
 * Strings a client chose (a log's name and message; an event's name, resource ids and roles) are
 * stored through text.ts's injective escape (`\` → `\\`, U+0000 → `\0`): equality and prefixes
 * on the stored text are equality and prefixes of what the client sent, NUL included.
 *
 * `log`: one row per line. `level` is float8 — the API's integer is a JavaScript number, and
 * float8 holds every one exactly, where int4 or int8 would refuse a large one. Indexes, by what
 * reads them: (timestamp, id) — every page of `POST /logs/filter` without a run (both sorts, one
 * direction each) and retention's oldest first; (flow_run_id, timestamp, id) — a flow run's
 * lines in order (the UI's run page, `flow_run_id.any_`); (task_run_id, timestamp, id) for a task
 * run's lines, partial (flow-level lines, the most numerous, have none and stay out of it).
 *
 * `event`: one row per event: the ReceivedEvent JSON as text (the reply splices it), and the
 * columns the filters read — `occurred`, the name, the primary resource's id. Indexes: (occurred,
 * id) — every page in either order, keyset cursors, time ranges, retention; (event, occurred) —
 * exact names and name prefixes (a prefix is a range of the C-collated column); (resource_id,
 * occurred) — `resource.id` and its prefixes.
 *
 * `event_resource`: one row per resource of an event — ordinal 0 the primary (role ''), 1… its
 * related resources in order — with the event's `occurred` copied. It answers `any_resource` and
 * `related` (an id and a role on the *same* resource, which two arrays on the event row could not
 * say without a scan of every event), driven from its (resource_id, occurred, event_id) index: the
 * events of a flow run are one index range, deduplicated by event id, bounded by the query's time
 * range. The ordinal (not the role) marks the primary, so a related role is never mistaken for it.
 * No foreign key to `event` (a per-row check on the hot insert path): both tables are written and
 * deleted together by one statement each (events.ts), and `artifactd check` verifies that every
 * event has exactly its resources and no row lacks its event.
 *
 * Counted (schema-counters.ts): `log` and `event` get migration 2's triggers, so `counts()` stays
 * a read of a few rows. `event_resource` is not counted (nothing asks how many it holds).
 */
import { baseCountSql, counterTriggersSql } from './schema-counters.ts';

export const LOG_EVENT_TABLES_SQL = `
CREATE TABLE log (
  id          text COLLATE "C" PRIMARY KEY,
  created     bigint NOT NULL,
  name        text COLLATE "C" NOT NULL,
  level       float8 NOT NULL,
  message     text COLLATE "C" NOT NULL,
  timestamp   bigint NOT NULL,
  flow_run_id text COLLATE "C",
  task_run_id text COLLATE "C"
);
CREATE INDEX log_timestamp_id ON log (timestamp, id);
CREATE INDEX log_flow_run_id_timestamp_id ON log (flow_run_id, timestamp, id);
CREATE INDEX log_task_run_id_timestamp_id ON log (task_run_id, timestamp, id) WHERE task_run_id IS NOT NULL;

CREATE TABLE event (
  id          text COLLATE "C" PRIMARY KEY,
  occurred    bigint NOT NULL,
  received    bigint NOT NULL,
  event       text COLLATE "C" NOT NULL,
  resource_id text COLLATE "C" NOT NULL,
  json        text NOT NULL
);
CREATE INDEX event_occurred_id ON event (occurred, id);
CREATE INDEX event_event_occurred ON event (event, occurred);
CREATE INDEX event_resource_id_occurred ON event (resource_id, occurred);

CREATE TABLE event_resource (
  event_id    text COLLATE "C" NOT NULL,
  ordinal     integer NOT NULL,
  resource_id text COLLATE "C" NOT NULL,
  role        text COLLATE "C" NOT NULL,
  occurred    bigint NOT NULL,
  PRIMARY KEY (event_id, ordinal)
);
CREATE INDEX event_resource_resource_id ON event_resource (resource_id, occurred, event_id);
${counterTriggersSql('log')}${counterTriggersSql('event')}
${baseCountSql('log')}
${baseCountSql('event')}
`;
