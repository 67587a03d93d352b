/** Flows: create-or-fetch by name, tags update, and delete with its deployments and runs. */
import type { FlowCreate } from '../../schemas/companions.ts';
import { newFlowRecord, updatedFlow } from '../run-records.ts';
import type { FlowRecord } from '../companion-records.ts';
import { durably } from './durable.ts';
import type { StoreDbs } from './env.ts';
import { indexString } from '../index-keys.ts';
import { putFlow, removeFlow } from './rows.ts';

export class FlowStore {
  constructor(private readonly dbs: StoreDbs) {}

  get(id: string): FlowRecord | undefined {
    return this.dbs.flows.get(id);
  }

  byName(name: string): FlowRecord | undefined {
    const id = this.dbs.flowsByName.get(indexString(name));
    return id === undefined ? undefined : this.dbs.flows.get(id);
  }

  all(): Iterable<FlowRecord> {
    return this.dbs.flows.getRange({}).map(({ value }) => value);
  }

  /** An existing flow of this name is returned untouched (`created: false`). */
  create(input: FlowCreate): Promise<{ record: FlowRecord; created: boolean }> {
    return durably(this.dbs.env, () => {
      const existing = this.byName(input.name);
      if (existing) return { record: existing, created: false };
      const record = newFlowRecord(input);
      putFlow(this.dbs, record, true);
      return { record, created: true };
    });
  }

  update(id: string, tags: string[] | undefined): Promise<boolean> {
    return durably(this.dbs.env, () => {
      const flow = this.get(id);
      if (!flow) return false;
      putFlow(this.dbs, updatedFlow(flow, tags), false);
      return true;
    });
  }

  delete(id: string): Promise<boolean> {
    return durably(this.dbs.env, () => {
      const flow = this.get(id);
      if (!flow) return false;
      removeFlow(this.dbs, flow);
      return true;
    });
  }
}
