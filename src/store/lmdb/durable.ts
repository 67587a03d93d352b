/**
 * The one way the store writes: a callback run as a child of an lmdb-js batched write
 * transaction, acknowledged only after the commit is flushed to disk. A callback that must refuse (a missing
 * parent, a uniqueness conflict) returns a `Refusal` before writing anything, so a refused
 * request never leaves a half-written record; `durably` then throws it.
 */
import type { RootDatabase } from 'lmdb';
import { Refusal } from '../refusal.ts';

export async function durably<T>(env: RootDatabase, work: () => T | Refusal): Promise<T> {
  // A child transaction of the shared batch: if `work` throws, its writes are rolled back and the
  // rest of the batch commits, so an unexpected error never leaves a half-written record.
  const committed = env.childTransaction(work) as Promise<T | Refusal>;
  // `flushed` resolves once every write issued so far is on disk: asked right after queuing
  // ours, it waits for our batch's sync and not for batches queued later, which under load
  // would make every writer wait one extra commit.
  const flushed = new Promise<void>((resolve, reject) => env.flushed.then(() => resolve(), reject));
  const result = await committed;
  await flushed;
  if (result instanceof Refusal) throw result;
  return result;
}
