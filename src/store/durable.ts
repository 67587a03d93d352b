/**
 * The one way the store writes: a callback run inside an lmdb-js batched write transaction,
 * acknowledged only after the commit is flushed to disk. A callback that must refuse (a missing
 * parent, a uniqueness conflict) returns a `Refusal` before writing anything, so a refused
 * request never leaves a half-written record; `durably` then throws it.
 */
import type { RootDatabase } from 'lmdb';

export class Refusal extends Error {
  constructor(
    readonly kind: 'conflict' | 'not_found',
    message: string,
  ) {
    super(message);
  }
}

/** Prefect's text for a violated unique or foreign-key constraint. */
export const INTEGRITY_CONFLICT =
  'Data integrity conflict. This usually means a unique or foreign key constraint was violated. See server logs for details.';

export async function durably<T>(env: RootDatabase, work: () => T | Refusal): Promise<T> {
  const result = await env.transaction(work);
  await env.flushed;
  if (result instanceof Refusal) throw result;
  return result;
}
