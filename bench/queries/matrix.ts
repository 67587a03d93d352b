/**
 * The query matrix: which bodies are sent to which route. Generated, not listed: every filter
 * below (each field of ArtifactFilter / ArtifactCollectionFilter, each run-side field the spec
 * lists, and the and_/or_ combinations a UI sends) goes to all four routes, the filter routes
 * with the default sort (ID_DESC) and limit 10; then two filters — none, and one through flow
 * runs — on both filter routes with every sort × limits 10 and 200; then a deep offset
 * (10,000) under three sorts. Row ids are stable across sizes (`filter.<id>.<route>[.<sort>.<limit>]`)
 * so the 1M table can be compared with the 100k one row by row; the values in the bodies come
 * from `Facts`, so they differ per size but always exist.
 *
 * `touch` fixes a row's target class where the plan alone would misjudge it: a `like_`
 * substring has to be tested on every key or name it could match, whatever index SQLite
 * walks. Other rows are classed from SQLite's own query plan (see measure.ts).
 */
import type { Facts } from './facts.ts';
import type { Route } from './prefect-sql.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = Record<string, any>;

export interface Row {
  id: string;
  route: Route;
  body: Body;
  /** true: "must touch everything" whatever SQLite's plan says (like_ rows). */
  touch?: boolean;
  /** The filter's short id (for the no-waiting row and grouping). */
  filter: string;
}

export const SORTS = ['ID_DESC', 'CREATED_DESC', 'UPDATED_DESC', 'KEY_ASC', 'KEY_DESC'] as const;
export const DEEP_OFFSET = 10_000;

interface FilterDef {
  id: string;
  /** The body's filter part; `latest` is true on the collection routes. Undefined: not applicable. */
  body: (f: Facts, latest: boolean) => Body | undefined;
  touch?: boolean;
}

const FILTERS: FilterDef[] = [
  { id: 'none', body: () => ({}) },
  // ArtifactFilter / ArtifactCollectionFilter
  { id: 'a.id', body: (f, latest) => ({ artifacts: latest ? { latest_id: { any_: f.latestIds } } : { id: { any_: f.artifactIds } } }) },
  { id: 'a.key.any', body: (f) => ({ artifacts: { key: { any_: f.keys } } }) },
  { id: 'a.key.like', body: (f) => ({ artifacts: { key: { like_: f.commonKeyFragment } } }), touch: true },
  { id: 'a.key.like-rare', body: (f) => ({ artifacts: { key: { like_: f.rareKeyFragment } } }), touch: true },
  { id: 'a.key.exists', body: () => ({ artifacts: { key: { exists_: true } } }) },
  { id: 'a.key.missing', body: () => ({ artifacts: { key: { exists_: false } } }) },
  { id: 'a.flow_run_id', body: (f) => ({ artifacts: { flow_run_id: { any_: [f.flowRunId] } } }) },
  { id: 'a.task_run_id', body: (f) => ({ artifacts: { task_run_id: { any_: [f.taskRunId] } } }) },
  { id: 'a.type.any', body: () => ({ artifacts: { type: { any_: ['table'] } } }) },
  { id: 'a.type.not_any', body: () => ({ artifacts: { type: { not_any_: ['markdown'] } } }) },
  // FlowRunFilter
  { id: 'fr.id', body: (f) => ({ flow_runs: { id: { any_: f.flowRunIds } } }) },
  { id: 'fr.name.like', body: (f) => ({ flow_runs: { name: { like_: f.flowRunNameFragment } } }), touch: true },
  { id: 'fr.tags', body: () => ({ flow_runs: { tags: { all_: ['nightly'] } } }) },
  { id: 'fr.state.type', body: () => ({ flow_runs: { state: { type: { any_: ['FAILED'] } } } }) },
  { id: 'fr.state.name', body: () => ({ flow_runs: { state: { name: { any_: ['Running'] } } } }) },
  { id: 'fr.start_time', body: (f) => (f.startedAfter ? { flow_runs: { start_time: { after_: f.startedAfter } } } : undefined) },
  { id: 'fr.expected_start_time', body: (f) => ({ flow_runs: { expected_start_time: { before_: f.expectedBefore } } }) },
  { id: 'fr.parent_task_run_id', body: (f) => (f.parentTaskRunId ? { flow_runs: { parent_task_run_id: { any_: [f.parentTaskRunId] } } } : undefined) },
  // TaskRunFilter
  { id: 'tr.id', body: (f) => ({ task_runs: { id: { any_: f.taskRunIds } } }) },
  { id: 'tr.name.like', body: (f) => ({ task_runs: { name: { like_: f.taskRunNameFragment } } }), touch: true },
  { id: 'tr.state.type', body: () => ({ task_runs: { state: { type: { any_: ['FAILED'] } } } }) },
  { id: 'tr.tags', body: () => ({ task_runs: { tags: { all_: ['nightly'] } } }) },
  // FlowFilter
  { id: 'flow.id', body: (f) => ({ flows: { id: { any_: [f.flowId] } } }) },
  { id: 'flow.name', body: (f) => ({ flows: { name: { any_: [f.flowName] } } }) },
  { id: 'flow.tags', body: (f) => (f.flowTag ? { flows: { tags: { all_: [f.flowTag] } } } : undefined) },
  // DeploymentFilter
  { id: 'dep.id', body: (f) => (f.deploymentId ? { deployments: { id: { any_: [f.deploymentId] } } } : undefined) },
  { id: 'dep.name.like', body: (f) => (f.deploymentNameFragment ? { deployments: { name: { like_: f.deploymentNameFragment } } } : undefined), touch: true },
  // What a UI sends: a search box over keys and types, a run's artifacts tab, a task run's
  // result, failed nightly runs of one flow, either-or across leaves.
  { id: 'ui.search', body: (f) => ({ artifacts: { key: { like_: f.commonKeyFragment }, type: { any_: ['table', 'markdown'] } } }), touch: true },
  { id: 'ui.or', body: (f) => ({ artifacts: { operator: 'or_', key: { like_: f.commonKeyFragment }, type: { any_: ['progress'] } } }), touch: true },
  { id: 'ui.run-tab', body: (f) => ({ artifacts: { flow_run_id: { any_: [f.flowRunId] }, type: { not_any_: ['result'] } } }) },
  { id: 'ui.task-result', body: (f) => ({ artifacts: { operator: 'and_', task_run_id: { any_: [f.taskRunId] }, type: { any_: ['result'] } } }) },
  {
    id: 'ui.failed-nightly',
    body: (f) => ({ flow_runs: { operator: 'and_', state: { type: { any_: ['FAILED'] } }, tags: { all_: ['nightly'] } }, flows: { name: { any_: [f.flowName] } } }),
  },
  { id: 'ui.runs-or', body: () => ({ flow_runs: { operator: 'or_', state: { type: { any_: ['FAILED'] } }, tags: { all_: ['nightly'] } } }) },
  { id: 'ui.keyed-not-result', body: () => ({ artifacts: { key: { exists_: true }, type: { not_any_: ['result'] } }, flow_runs: { state: { type: { not_any_: ['RUNNING'] } } } }) },
];

/** Filters that also get every sort × limit and the deep offset. */
const GRID_FILTERS = ['none', 'fr.state.type'];
const OFFSET_SORTS = ['ID_DESC', 'CREATED_DESC', 'KEY_ASC'];

const short: Record<Route, string> = { filter: 'filter', count: 'count', 'latest/filter': 'latest-filter', 'latest/count': 'latest-count' };
const ROUTE_ORDER: Route[] = ['filter', 'count', 'latest/filter', 'latest/count'];

export function buildMatrix(facts: Facts, only?: (row: Row) => boolean): Row[] {
  const rows: Row[] = [];
  const add = (row: Row) => (!only || only(row)) && rows.push(row);
  for (const def of FILTERS) {
    for (const route of ROUTE_ORDER) {
      const latest = route.startsWith('latest');
      const part = def.body(facts, latest);
      if (!part) continue;
      const paged = !route.endsWith('count');
      add({
        id: `${def.id}.${short[route]}`,
        route,
        body: paged ? { ...part, sort: 'ID_DESC', limit: 10 } : part,
        touch: def.touch,
        filter: def.id,
      });
    }
  }
  for (const id of GRID_FILTERS) {
    const def = FILTERS.find((d) => d.id === id)!;
    for (const route of ['filter', 'latest/filter'] as Route[]) {
      const part = def.body(facts, route.startsWith('latest'));
      if (!part) continue;
      for (const sort of SORTS) {
        for (const limit of [10, 200]) {
          if (sort === 'ID_DESC' && limit === 10) continue; // the field rows have it
          add({ id: `${id}.${short[route]}.${sort}.${limit}`, route, body: { ...part, sort, limit }, touch: def.touch, filter: id });
        }
      }
      for (const sort of id === 'none' ? OFFSET_SORTS : ['ID_DESC']) {
        add({ id: `${id}.${short[route]}.${sort}.10.offset`, route, body: { ...part, sort, limit: 10, offset: DEEP_OFFSET }, touch: def.touch, filter: id });
      }
    }
  }
  return rows;
}

/** A one-line rendering of a body for the table. */
export function shortBody(body: Body): string {
  const text = JSON.stringify(body, (_, v) => (typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(v) ? 'ID' : v));
  return text.length > 110 ? `${text.slice(0, 107)}…` : text;
}
