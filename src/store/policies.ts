/** Run policies as Prefect fills them in: defaults for the fields not given, and its copies of deprecated fields. */
import type { FlowRunPolicy, TaskRunPolicy } from './companion-records.ts';

/** A flow run policy with Prefect's defaults for the fields not given, values kept as they are. */
export function flowRunPolicyDefaults(p: Partial<FlowRunPolicy> = {}): FlowRunPolicy {
  return {
    max_retries: p.max_retries ?? 0,
    retry_delay_seconds: p.retry_delay_seconds ?? 0,
    retries: p.retries ?? null,
    retry_delay: p.retry_delay ?? null,
    pause_keys: p.pause_keys ?? [],
    resuming: p.resuming ?? false,
  };
}

/** Prefect copies deprecated `max_retries`/`retry_delay_seconds` into empty `retries`/`retry_delay`. */
export function flowRunPolicy(input: Partial<FlowRunPolicy> | undefined): FlowRunPolicy {
  const p = input ?? {};
  const policy = flowRunPolicyDefaults(p);
  if (!policy.retries && policy.max_retries !== 0) policy.retries = policy.max_retries;
  if (!policy.retry_delay && policy.retry_delay_seconds !== 0) policy.retry_delay = p.retry_delay_seconds as number;
  return policy;
}

/** A task run policy with Prefect's defaults for the fields not given, values kept as they are. */
export function taskRunPolicyDefaults(p: Partial<TaskRunPolicy> = {}): TaskRunPolicy {
  return {
    max_retries: p.max_retries ?? 0,
    retry_delay_seconds: p.retry_delay_seconds ?? 0,
    retries: p.retries ?? null,
    retry_delay: p.retry_delay ?? null,
    retry_jitter_factor: p.retry_jitter_factor ?? null,
  };
}
