/**
 * Export and import of a whole store (`artifactd export` / `import`; the line format is
 * `transfer/format.ts`).
 *
 * Export reads one LMDB snapshot, so a server may keep writing meanwhile and the file is still
 * one consistent moment. Artifacts, collections and events are written from their stored JSON as
 * is; log lines as `logJson` renders them (what `POST /logs/filter` answers).
 *
 * Import writes in bounded batches, each one durable write transaction, through the same
 * row-level writes the API uses (`rows.ts`, `ArtifactStore.putImported`), so indexes,
 * collections and counters are maintained exactly as by the API. It only adds: a record whose
 * id the store already holds is left as the store has it ("unchanged" when equal, "kept" when
 * different), which makes importing the same file twice a no-op. A record that would break a
 * rule the API enforces (unknown flow, a taken name or idempotency key) is refused before
 * anything of it is written and reported with its line number.
 */
import {
  deploymentJson,
  flowJson,
  flowRunJson,
  taskRunJson,
  type FlowRunRecord,
} from '../companion-records.ts';
import { durably } from './durable.ts';
import { indexString } from '../index-keys.ts';
import { logJson } from '../log-records.ts';
import { artifactJson } from '../records.ts';
import { eventById, putImportedEvent } from './events.ts';
import { putImportedLog } from './logs.ts';
import { deploymentKey, idempotencyKey, putDeployment, putFlow, putFlowRun, putTaskRun, taskRunIdByKeys } from './rows.ts';
import type { LmdbStore as Store } from './store.ts';
import { headerLine, recordLine, type Counts, type Item } from '../../transfer/format.ts';

// ── export ─────────────────────────────────────────────────────────────────────────────────

/** No "now" for run JSON in exports and comparisons: the estimates that depend on it are left out. */
const WITHOUT_ESTIMATES = null;

export interface ExportSnapshot {
  counts: Counts;
  /** The header line, then one line per record (without newlines). */
  lines: Iterable<string>;
  /** Releases the snapshot; call when done (also after an error). */
  done(): void;
}

export function openExport(store: Store, now = new Date()): ExportSnapshot {
  const { dbs } = store;
  const transaction = dbs.env.useReadTransaction();
  const options = { transaction };
  const count = (name: string) => dbs.counters.get(name, options) ?? 0;
  const counts: Counts = {
    flow: count('flows'),
    deployment: count('deployments'),
    flow_run: count('flowRuns'),
    task_run: count('taskRuns'),
    collection: count('collections'),
    artifact: count('artifacts'),
    log: count('logs'),
    event: count('events'),
  };
  function* lines(): Generator<string> {
    yield headerLine(counts, now);
    for (const { value } of dbs.flows.getRange(options)) yield recordLine('flow', flowJson(value));
    for (const { value } of dbs.deployments.getRange(options)) yield recordLine('deployment', deploymentJson(value));
    for (const { value } of dbs.flowRuns.getRange(options)) yield recordLine('flow_run', flowRunJson(value, WITHOUT_ESTIMATES));
    for (const { value } of dbs.taskRuns.getRange(options)) yield recordLine('task_run', taskRunJson(value, WITHOUT_ESTIMATES));
    for (const { value } of dbs.collectionJson.getRange(options)) yield recordLine('collection', value);
    for (const { value } of dbs.artifactJson.getRange(options)) yield recordLine('artifact', value);
    for (const { value } of dbs.logs.getRange(options)) yield recordLine('log', logJson(value));
    // In id order, as every kind (the records themselves are kept in time order).
    for (const { key, value } of dbs.eventsById.getRange(options)) yield recordLine('event', dbs.events.get([value, key], options)!.json);
  }
  return { counts, lines: lines(), done: () => (transaction as unknown as { done(): void }).done() };
}

// ── import ─────────────────────────────────────────────────────────────────────────────────

/** What became of one line: written, already there (equal or different), or refused. */
export type Outcome = 'added' | 'unchanged' | 'kept' | { error: string };

export interface Numbered {
  line: number;
  item: Item;
}

interface PendingParent {
  line: number;
  runId: string;
  parentId: string;
}

/** State carried between the batches of one import: collection identities, deferred parents. */
export class Importer {
  /** Collection id and `created` per key, from collection lines, until the key's collection is made. */
  private readonly identities = new Map<string, { id: string; created: number }>();
  /** Sub-flow runs written before their parent task run (task runs come after flow runs). */
  private readonly pending: PendingParent[] = [];

  constructor(private readonly store: Store) {}

  /**
   * Writes one batch in one durable transaction; resolves to one outcome per item. If the batch
   * fails unexpectedly it is rolled back whole and each item is retried alone, so one broken
   * record costs only its own line.
   */
  async write(batch: Numbered[]): Promise<Outcome[]> {
    try {
      const { outcomes, effects } = await durably(this.store.dbs.env, () => this.apply(batch));
      this.commit(effects);
      return outcomes;
    } catch {
      const outcomes: Outcome[] = [];
      for (const one of batch) {
        try {
          const result = await durably(this.store.dbs.env, () => this.apply([one]));
          this.commit(result.effects);
          outcomes.push(result.outcomes[0]);
        } catch (error) {
          outcomes.push({ error: `not written: ${(error as Error).message}` });
        }
      }
      return outcomes;
    }
  }

  /**
   * After the last batch: links each sub-flow run to its parent task run, now imported. A parent
   * that never came is reported against the run's line (the run stays, without the link).
   */
  async finish(): Promise<{ line: number; outcome: Outcome }[]> {
    const { dbs } = this.store;
    const results: { line: number; outcome: Outcome }[] = [];
    const pending = this.pending.splice(0);
    for (let i = 0; i < pending.length; i += 1000) {
      const slice = pending.slice(i, i + 1000);
      await durably(dbs.env, () => {
        for (const p of slice) {
          const run = dbs.flowRuns.get(p.runId);
          if (run && dbs.taskRuns.get(p.parentId)) putFlowRun(dbs, { ...run, parent_task_run_id: p.parentId }, run);
          else results.push({ line: p.line, outcome: { error: `flow_run ${p.runId}: parent task run ${p.parentId} is neither in the store nor in the file; imported without it` } });
        }
      });
    }
    return results;
  }

  private commit(effects: Effects): void {
    for (const key of effects.usedIdentities) this.identities.delete(key);
    for (const [key, identity] of effects.newIdentities) this.identities.set(key, identity);
    this.pending.push(...effects.pending);
  }

  /** Runs inside the write transaction; in-memory state changes only once it commits. */
  private apply(batch: Numbered[]): { outcomes: Outcome[]; effects: Effects } {
    const effects: Effects = { usedIdentities: [], newIdentities: new Map(), pending: [] };
    const outcomes = batch.map(({ line, item }) => this.applyOne(line, item, effects));
    return { outcomes, effects };
  }

  private applyOne(line: number, item: Item, effects: Effects): Outcome {
    const { dbs } = this.store;
    const same = (a: string, b: string): Outcome => (a === b ? 'unchanged' : 'kept');
    switch (item.kind) {
      case 'flow': {
        const r = item.record;
        const existing = dbs.flows.get(r.id);
        if (existing) return same(flowJson(existing), flowJson(r));
        const owner = dbs.flowsByName.get(indexString(r.name));
        if (owner) return { error: `flow ${r.id}: the name ${JSON.stringify(r.name)} belongs to flow ${owner} in the store` };
        putFlow(dbs, r, true);
        return 'added';
      }
      case 'deployment': {
        const r = item.record;
        const existing = dbs.deployments.get(r.id);
        if (existing) return same(deploymentJson(existing), deploymentJson(r));
        if (!dbs.flows.get(r.flow_id)) return { error: `deployment ${r.id}: flow ${r.flow_id} not found` };
        const owner = dbs.deploymentsByFlowName.get(deploymentKey(r.flow_id, r.name));
        if (owner) return { error: `deployment ${r.id}: flow ${r.flow_id} already has deployment ${owner} named ${JSON.stringify(r.name)}` };
        putDeployment(dbs, r, true);
        return 'added';
      }
      case 'flow_run': {
        const r = item.record;
        const existing = dbs.flowRuns.get(r.id);
        if (existing) return same(flowRunJson(existing, WITHOUT_ESTIMATES), flowRunJson(r, WITHOUT_ESTIMATES));
        if (!dbs.flows.get(r.flow_id)) return { error: `flow_run ${r.id}: flow ${r.flow_id} not found` };
        if (r.idempotency_key !== null) {
          const owner = dbs.flowRunsByIdempotencyKey.get(idempotencyKey(r.flow_id, r.idempotency_key));
          if (owner) return { error: `flow_run ${r.id}: idempotency key ${JSON.stringify(r.idempotency_key)} belongs to flow run ${owner}` };
        }
        const parent = r.parent_task_run_id;
        if (parent !== null && !dbs.taskRuns.get(parent)) {
          putFlowRun(dbs, { ...r, parent_task_run_id: null } satisfies FlowRunRecord);
          effects.pending.push({ line, runId: r.id, parentId: parent });
        } else {
          putFlowRun(dbs, r);
        }
        return 'added';
      }
      case 'task_run': {
        const r = item.record;
        const existing = dbs.taskRuns.get(r.id);
        if (existing) return same(taskRunJson(existing, WITHOUT_ESTIMATES), taskRunJson(r, WITHOUT_ESTIMATES));
        if (r.flow_run_id !== null && !dbs.flowRuns.get(r.flow_run_id)) return { error: `task_run ${r.id}: flow run ${r.flow_run_id} not found` };
        const owner = taskRunIdByKeys(dbs, r);
        if (owner) return { error: `task_run ${r.id}: task run ${owner} has the same flow run, task_key and dynamic_key` };
        putTaskRun(dbs, r, true);
        return 'added';
      }
      case 'collection': {
        const c = item.record;
        const existing = dbs.collections.get(c.key);
        if (existing) return existing.id === c.id && existing.created === c.created ? 'unchanged' : 'kept';
        effects.newIdentities.set(c.key, { id: c.id, created: c.created });
        return 'added';
      }
      case 'artifact': {
        const r = item.record;
        const existing = dbs.artifactJson.get(r.id);
        if (existing !== undefined) return same(existing, artifactJson(r));
        const identity = r.key === null ? undefined : (effects.newIdentities.get(r.key) ?? this.identities.get(r.key));
        this.store.artifacts.putImported(r, identity);
        if (identity && r.key !== null) {
          effects.newIdentities.delete(r.key);
          effects.usedIdentities.push(r.key);
        }
        return 'added';
      }
      case 'log': {
        const r = item.record;
        const existing = dbs.logs.get(r.id);
        if (existing) return same(logJson(existing), logJson(r));
        putImportedLog(dbs, r);
        return 'added';
      }
      case 'event': {
        const r = item.record;
        const existing = eventById(dbs, r.id);
        if (existing) return same(existing.json, r.json);
        putImportedEvent(dbs, r);
        return 'added';
      }
    }
  }
}

interface Effects {
  usedIdentities: string[];
  newIdentities: Map<string, { id: string; created: number }>;
  pending: PendingParent[];
}
