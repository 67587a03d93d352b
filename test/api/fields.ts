/**
 * Field lists and fixed values several HTTP test files pin alike: the key order of Prefect's
 * artifact, artifact-collection and state bodies, the slug shape of generated run names, and the
 * ids that stand for "no such record".
 */

/** An artifact body's keys, in Prefect's order. */
export const ARTIFACT_FIELDS = [
  'id',
  'created',
  'updated',
  'key',
  'type',
  'description',
  'data',
  'metadata_',
  'flow_run_id',
  'task_run_id',
];

/** An artifact collection row's keys (a key's latest version), in Prefect's order. */
export const COLLECTION_FIELDS = [
  'id',
  'created',
  'updated',
  'key',
  'latest_id',
  'type',
  'description',
  'data',
  'metadata_',
  'flow_run_id',
  'task_run_id',
];

/** A state's keys, in Prefect's order. */
export const STATE_FIELDS = ['id', 'type', 'name', 'timestamp', 'message', 'data', 'state_details'];

/** A state's state_details keys, in Prefect's order. */
export const STATE_DETAILS_FIELDS = [
  'flow_run_id',
  'task_run_id',
  'child_flow_run_id',
  'scheduled_time',
  'cache_key',
  'cache_expiration',
  'deferred',
  'untrackable_result',
  'pause_timeout',
  'pause_reschedule',
  'pause_key',
  'run_input_keyset',
  'refresh_cache',
  'retriable',
  'transition_id',
  'task_parameters_id',
];

/** A generated run or deployment name: two lowercase words joined by a dash. */
export const SLUG_RE = /^[a-z]+-[a-z]+$/;

/** The 404 body of the artifact routes. */
export const ARTIFACT_NOT_FOUND = { detail: 'Artifact not found.' };

/** An id no test ever creates. */
export const MISSING_ID = '00000000-0000-0000-0000-000000000000';
/** A well-formed id that names no record of the kind asked for. */
export const OTHER_ID = '3f0c6d1e-2b7a-4c55-9e0d-7a1b2c3d4e5f';
