/**
 * The small routes every Prefect client touches first (`shared/spec/artifacts-api.md` §8):
 * health, version, readiness, the package version, and the CSRF token route: with CSRF
 * protection off (Prefect's default) it answers the 422 that tells clients to stop asking; on,
 * it issues a token for the client. Also `/admin/storage`, which 3.8 clients read.
 */
import { Elysia } from 'elysia';
import { checkApiVersion } from '../http/api-version.ts';
import { detail, validationFailed } from '../http/errors.ts';
import { jsonValue, noContent } from '../http/respond.ts';
import type { Config } from '../config.ts';
import type { Store } from '../store/contract.ts';
import { formatMicros } from '../time.ts';

/** The API schema version Prefect 3 clients send and expect. */
export const API_VERSION = '0.8.4';
/** The Prefect server version this server answers as (major 3 is what clients check). */
export const PREFECT_VERSION = '3.0.0';

const tags = ['Root'];

export function rootRoutes(store: Store, config: Config) {
  return new Elysia()
    .get('/health', () => jsonValue(200, true), { detail: { tags, summary: 'Health Check' } })
    .get('/version', () => jsonValue(200, API_VERSION), { detail: { tags, summary: 'Server API Version' } })
    .get(
      '/ready',
      async ({ request }) => {
        checkApiVersion(request);
        return (await store.isReadable())
          ? jsonValue(200, { message: 'OK' })
          : jsonValue(503, { message: 'Database is not available' });
      },
      { detail: { tags, summary: 'Readiness Check' } },
    )
    .get(
      '/hello',
      ({ request }) => {
        checkApiVersion(request);
        return jsonValue(200, '👋');
      },
      { detail: { tags, summary: 'Hello' } },
    )
    .get(
      '/admin/version',
      ({ request }) => {
        checkApiVersion(request);
        return jsonValue(200, PREFECT_VERSION);
      },
      { detail: { tags: ['Admin'], summary: 'Read Server Version' } },
    )
    // Where a 3.8 client looks for the server's default result storage: none is configured here
    // (there are no blocks to configure); clearing it is a no-op, setting one is not served.
    .get(
      '/admin/storage',
      ({ request }) => {
        checkApiVersion(request);
        return jsonValue(200, { default_result_storage_block_id: null });
      },
      { detail: { tags: ['Admin'], summary: 'Read Server Default Result Storage' } },
    )
    .put(
      '/admin/storage',
      ({ request }) => {
        checkApiVersion(request);
        throw detail(501, 'Setting a default result storage block is not supported by this server: it stores no blocks.');
      },
      { parse: 'none', detail: { tags: ['Admin'], summary: 'Update Server Default Result Storage' } },
    )
    .delete(
      '/admin/storage',
      ({ request }) => {
        checkApiVersion(request);
        return noContent();
      },
      { parse: 'none', detail: { tags: ['Admin'], summary: 'Clear Server Default Result Storage' } },
    )
    .get(
      '/csrf-token',
      async ({ request }) => {
        checkApiVersion(request);
        const client = new URL(request.url).searchParams.get('client');
        if (client === null) {
          throw validationFailed([{ type: 'missing', loc: ['query', 'client'], msg: 'Field required', input: null }], null);
        }
        if (!config.csrf.enabled) throw detail(422, 'CSRF protection is disabled.');
        const t = await store.csrfTokens.issue(client, config.csrf.tokenExpirationSeconds);
        return jsonValue(200, {
          id: t.id,
          created: formatMicros(t.created),
          updated: formatMicros(t.updated),
          token: t.token,
          client: t.client,
          expiration: formatMicros(t.expiration),
        });
      },
      { detail: { tags, summary: 'Create Csrf Token' } },
    );
}
