/**
 * `FlowFilter` and `DeploymentFilter` compiled into predicates (`shared/spec/filters.md` §6–7,
 * §9 for the newer-Prefect `not_any_`/`any_` fields).
 */
import type { DeploymentFilter, FlowFilter } from '../schemas/filters.ts';
import type { DeploymentRecord, FlowRecord } from '../store/companion-records.ts';
import type { FilterContext } from './context.ts';
import { always, anyOf, combine, isNull, like, noneOf, on, tagsCondition, type Predicate } from './leaf.ts';
import { nameCondition } from './runs.ts';

function idsCondition<T extends { id: string }>(f: { any_?: string[] | null; not_any_?: string[] | null }): Predicate<T> {
  const parts: Predicate<T>[] = [];
  if (f.any_ != null) parts.push(on((r: T) => r.id, anyOf(f.any_)));
  // Newer Prefect ignores an empty `not_any_`; so does noneOf([]).
  if (f.not_any_ != null) parts.push(on((r: T) => r.id, noneOf(f.not_any_)));
  return combine(parts);
}

export function compileFlowFilter(f: FlowFilter | null | undefined, ctx: FilterContext): Predicate<FlowRecord> {
  if (f == null) return always;
  const parts: Predicate<FlowRecord>[] = [];
  if (f.id != null) parts.push(idsCondition(f.id));
  if (f.deployment != null) {
    const wantNone = f.deployment.is_null_;
    parts.push(wantNone == null ? always : (flow) => ctx.flowHasDeployments(flow.id) !== wantNone);
  }
  if (f.name != null) parts.push(nameCondition(f.name, (flow: FlowRecord) => flow.name));
  if (f.tags != null) parts.push(tagsCondition(f.tags, (flow: FlowRecord) => flow.tags));
  return combine(parts, f.operator ?? 'and_');
}

export function compileDeploymentFilter(f: DeploymentFilter | null | undefined, ctx: FilterContext): Predicate<DeploymentRecord> {
  if (f == null) return always;
  type D = DeploymentRecord;
  const parts: Predicate<D>[] = [];
  if (f.id != null) parts.push(idsCondition(f.id));
  if (f.name != null) parts.push(nameCondition(f.name, (d: D) => d.name));
  if (f.flow_or_deployment_name != null) {
    const pattern = f.flow_or_deployment_name.like_;
    const test = pattern == null ? undefined : like(pattern);
    parts.push(test ? (d: D) => test(d.name) || test(ctx.flow(d.flow_id)?.name) : always);
  }
  if (f.paused != null) {
    const eq = f.paused.eq_;
    parts.push(eq == null ? always : (d: D) => d.paused === eq);
  }
  if (f.tags != null) parts.push(tagsCondition(f.tags, (d: D) => d.tags));
  if (f.work_queue_name != null) {
    parts.push(f.work_queue_name.any_ != null ? on((d: D) => d.work_queue_name, anyOf(f.work_queue_name.any_)) : always);
  }
  if (f.concurrency_limit != null) {
    const { ge_, le_, is_null_ } = f.concurrency_limit;
    const leaves: Predicate<D>[] = [];
    if (ge_ != null) leaves.push((d) => d.concurrency_limit !== null && d.concurrency_limit >= ge_);
    if (le_ != null) leaves.push((d) => d.concurrency_limit !== null && d.concurrency_limit <= le_);
    if (is_null_ != null) leaves.push(on((d: D) => d.concurrency_limit, isNull(is_null_)));
    parts.push(combine(leaves));
  }
  return combine(parts, f.operator ?? 'and_');
}
