/**
 * Deployments: create-or-overwrite by (flow, name), delete (with the deployment's SCHEDULED
 * runs), and creating a flow run from a deployment.
 */
import type { DeploymentCreate, DeploymentFlowRunCreate } from '../../schemas/companions.ts';
import { deploymentFlowRun, deploymentRecord, deploymentRefusal } from '../run-records.ts';
import type { DeploymentRecord, FlowRunRecord } from '../companion-records.ts';
import { durably } from './durable.ts';
import { Refusal } from '../refusal.ts';
import type { StoreDbs } from './env.ts';
import type { FlowRunStore } from './flow-runs.ts';
import { deploymentIdsOfFlow, deploymentKey, flowRunIdsOfDeployment, putDeployment, removeDeployment, removeFlowRun } from './rows.ts';

export class DeploymentStore {
  constructor(
    private readonly dbs: StoreDbs,
    private readonly flowRuns: FlowRunStore,
  ) {}

  get(id: string): DeploymentRecord | undefined {
    return this.dbs.deployments.get(id);
  }

  /** The deployments of one flow. */
  ofFlow(flowId: string): DeploymentRecord[] {
    return deploymentIdsOfFlow(this.dbs, flowId).map((id) => this.dbs.deployments.get(id)!);
  }

  all(): Iterable<DeploymentRecord> {
    return this.dbs.deployments.getRange({}).map(({ value }) => value);
  }

  /** A deployment with the same flow and name is overwritten with the submitted values. */
  create(input: DeploymentCreate): Promise<{ record: DeploymentRecord; created: boolean }> {
    return durably(this.dbs.env, () => {
      const { dbs } = this;
      const refusal = deploymentRefusal(input, dbs.flows.get(input.flow_id) !== undefined);
      if (refusal) return refusal;
      const existingId = dbs.deploymentsByFlowName.get(deploymentKey(input.flow_id, input.name));
      const existing = existingId === undefined ? undefined : dbs.deployments.get(existingId);
      const record = deploymentRecord(input, existing);
      putDeployment(dbs, record, !existing);
      return { record, created: !existing };
    });
  }

  /** Deletes the deployment and those of its runs that are still SCHEDULED. */
  delete(id: string): Promise<boolean> {
    return durably(this.dbs.env, () => {
      const deployment = this.get(id);
      if (!deployment) return false;
      for (const runId of flowRunIdsOfDeployment(this.dbs, id)) {
        const run = this.dbs.flowRuns.get(runId);
        if (run?.state_type === 'SCHEDULED') removeFlowRun(this.dbs, run);
      }
      removeDeployment(this.dbs, deployment);
      return true;
    });
  }

  createFlowRun(id: string, input: DeploymentFlowRunCreate): Promise<{ record: FlowRunRecord; created: boolean }> {
    return durably(this.dbs.env, () => {
      const deployment = this.get(id);
      if (!deployment) return new Refusal('not_found', 'Deployment not found');
      const run = deploymentFlowRun(deployment, input);
      return run instanceof Refusal ? run : this.flowRuns.insert(run);
    });
  }
}
