/**
 * lmdb's API, as env.ts loads it: through `require`, when a store is first opened, so that a
 * native addon that does not load is an error env.ts can catch and explain (addon.ts), not a
 * failure of the whole program before it starts. (A top-level `await import('lmdb')` would catch
 * it too, but a module that awaits at its top level makes a worker importing it miss the
 * messages sent to it while it loads: the query thread's.) Only type imports of 'lmdb' elsewhere.
 */
export { open } from 'lmdb';
