/**
 * One suite, every backend: `describeBackends(title, (backend) => { … })` registers the suite
 * once per backend, as `describe('title [lmdb]')` and `describe('title [postgresql]')`; inside,
 * a test opens its app with `await harness({...}, backend)` (or `freshHarness({...}, backend)`).
 *
 *   describeBackends('GET /api/artifacts/{id}', (backend) => {
 *     const h = freshHarness({}, backend);
 *     test('…', async () => { … await h.create(…) … });
 *   });
 *
 * BACKENDS is LMDB, plus PostgreSQL when this machine has PostgreSQL's binaries: the first file
 * that imports this module starts the process's throwaway cluster (test/postgres/cluster.ts) at
 * its top level, so no test's timeout pays for it. Without the binaries one line says that the
 * PostgreSQL variants were skipped — and under CI that throws instead, because there a skip is a
 * failure.
 *
 * ARTIFACTD_TEST_BACKENDS=lmdb (or =postgresql) narrows a local run to one backend; the cluster
 * is not started when PostgreSQL is left out.
 */
import { describe } from 'bun:test';
import type { Backend } from './helpers.ts';
import { testDatabaseUrl } from './postgres/cluster.ts';

export type { Backend } from './helpers.ts';

async function available(): Promise<readonly Backend[]> {
  const chosen = process.env.ARTIFACTD_TEST_BACKENDS?.split(',').map((b) => b.trim()).filter((b) => b !== '');
  for (const b of chosen ?? []) {
    if (b !== 'lmdb' && b !== 'postgresql') throw new Error(`ARTIFACTD_TEST_BACKENDS: unknown backend ${JSON.stringify(b)} (lmdb, postgresql)`);
  }
  const wanted = (chosen ?? ['lmdb', 'postgresql']) as Backend[];
  if (!wanted.includes('postgresql')) return wanted;
  if ((await testDatabaseUrl()) !== null) return wanted;
  if (chosen?.includes('postgresql')) throw new Error('ARTIFACTD_TEST_BACKENDS names postgresql, but there is no PostgreSQL on this machine');
  return wanted.filter((b) => b !== 'postgresql');
}

/** The backends this run tests: ['lmdb'] or ['lmdb', 'postgresql']. */
export const BACKENDS: readonly Backend[] = await available();

export interface BackendOptions {
  /**
   * Only these backends (of BACKENDS), for a suite that reaches into one backend's internals;
   * say why beside the call.
   */
  only?: readonly Backend[];
}

/** Registers `body` once per backend, in `describe('${title} [${backend}]')`. */
export function describeBackends(title: string, body: (backend: Backend) => void, options: BackendOptions = {}): void {
  for (const backend of BACKENDS) {
    if (options.only !== undefined && !options.only.includes(backend)) continue;
    describe(`${title} [${backend}]`, () => body(backend));
  }
}
