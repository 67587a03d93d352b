/**
 * Helpers the companion-resource tests (flows, flow runs, task runs, deployments) share: creators
 * that expect the create to succeed and return the body, and readers over one resource's
 * `/{id}`, `/count` and `/filter` routes that expect 200 (or, for an unknown sort, 422).
 *
 * Both take the harness as a getter, because each test file replaces its harness in beforeEach.
 */
import { expect } from 'bun:test';
import type { Harness } from '../helpers.ts';
import { validation } from './expect.ts';

type Body = Record<string, unknown>;

/** Creates the records a test builds on; each throws unless the server answered with success. */
export function creators(harness: () => Harness) {
  return {
    /** POST /api/flows/ (create or fetch by name: 201 or 200). */
    async flow(name = 'f'): Promise<any> {
      const reply = await harness().call('POST', '/api/flows/', { name });
      if (reply.status !== 201 && reply.status !== 200) throw new Error(`flow create failed: ${reply.status} ${reply.text}`);
      return reply.body;
    },
    /** POST /api/flow_runs/ expecting 201. */
    async flowRun(body: Body): Promise<any> {
      const reply = await harness().call('POST', '/api/flow_runs/', body);
      if (reply.status !== 201) throw new Error(`flow run create failed: ${reply.status} ${reply.text}`);
      return reply.body;
    },
    /** POST /api/task_runs/ expecting 201; task_key 'k' and dynamic_key '0' unless given. */
    async taskRun(body: Body): Promise<any> {
      const reply = await harness().call('POST', '/api/task_runs/', { task_key: 'k', dynamic_key: '0', ...body });
      if (reply.status !== 201) throw new Error(`task run create failed: ${reply.status} ${reply.text}`);
      return reply.body;
    },
    /** POST /api/deployments/ expecting 201. */
    async deployment(body: Body): Promise<any> {
      const reply = await harness().call('POST', '/api/deployments/', body);
      if (reply.status !== 201) throw new Error(`deployment create failed: ${reply.status} ${reply.text}`);
      return reply.body;
    },
  };
}

/** Reads one resource (`base` is e.g. '/api/flow_runs'), asserting 200 on every call. */
export function readers(harness: () => Harness, base: string) {
  const filter = async (body: unknown): Promise<any[]> => {
    const reply = await harness().call('POST', `${base}/filter`, body);
    expect(reply.status).toBe(200);
    return reply.body as any[];
  };
  return {
    /** GET {base}/{id}: the body. */
    async read(id: string): Promise<any> {
      const reply = await harness().call('GET', `${base}/${id}`);
      expect(reply.status).toBe(200);
      return reply.body;
    },
    /** POST {base}/count: the number. */
    async count(body: unknown = {}): Promise<number> {
      const reply = await harness().call('POST', `${base}/count`, body);
      expect(reply.status).toBe(200);
      return reply.body as number;
    },
    /** POST {base}/filter: the ids, in the order answered. */
    filterIds: async (body: unknown) => (await filter(body)).map((r) => r.id),
    /** POST {base}/filter: the names, in the order answered. */
    filterNames: async (body: unknown) => (await filter(body)).map((r) => r.name),
    /** Asserts that POST {base}/filter with this sort is a 422 whose first error is an enum at body.sort. */
    async rejectsSort(sort: string) {
      expect(validation(await harness().call('POST', `${base}/filter`, { sort }))[0]).toMatchObject({
        type: 'enum',
        loc: ['body', 'sort'],
      });
    },
  };
}

/** Ids sorted the way ID_DESC sorts them. */
export const byIdDesc = (ids: string[]) => [...ids].sort().reverse();

/** A run without the fields that depend on the time of the request. */
export const stable = ({ estimated_run_time, estimated_start_time_delta, ...rest }: any) => rest;
