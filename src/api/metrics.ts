/**
 * `GET /api/metrics` (where Prefect serves them when PREFECT_API_ENABLE_METRICS is on) and
 * `GET /metrics` (where Prometheus looks by default): the same exposition text. Mounted only
 * when metrics are enabled; otherwise both paths answer 404 like any unknown path, as on Prefect.
 * Behind basic auth when it is configured (Prometheus scrape configs take `basic_auth`).
 */
import { Elysia } from 'elysia';
import { METRICS_CONTENT_TYPE, type Metrics } from '../observe/metrics.ts';

export function metricsRoutes(metrics: Metrics) {
  const answer = async () => new Response(await metrics.render(), { headers: { 'content-type': METRICS_CONTENT_TYPE } });
  const hidden = { parse: 'none' as const, detail: { hide: true } };
  return new Elysia().get('/metrics', answer, hidden).get('/api/metrics', answer, hidden);
}
