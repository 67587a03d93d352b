/**
 * What some filters must look up beyond the row they test: a sub-flow's parent task run, whether
 * a task run started sub-flows, whether a flow has deployments, a deployment's flow. The store
 * provides these; filters stay free of LMDB.
 */
import type { DeploymentRecord, FlowRecord, FlowRunRecord, TaskRunRecord } from '../store/companion-records.ts';

export interface FilterContext {
  flow(id: string): FlowRecord | undefined;
  flowRun(id: string): FlowRunRecord | undefined;
  taskRun(id: string): TaskRunRecord | undefined;
  deployment(id: string): DeploymentRecord | undefined;
  hasSubflowRuns(taskRunId: string): boolean;
  flowHasDeployments(flowId: string): boolean;
}
