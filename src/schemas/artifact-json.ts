/**
 * The artifact JSON the API answers with, as plain types for the code that reads those answers:
 * the CLI's artifact commands and the browser UI. The TypeBox models in artifacts.ts describe the
 * same shapes for validation and OpenAPI, with every field optional as in Prefect's schema; these
 * say what artifactd always sends. No imports: the browser modules' own type-check
 * (src/ui/client/tsconfig.json) reads this file without Bun's or TypeBox's types.
 */

/** An Artifact, as `GET /artifacts/{id}` and `/artifacts/filter` return it. */
export interface ArtifactJson {
  id: string;
  created: string;
  updated: string;
  key: string | null;
  type: string | null;
  description: string | null;
  data: unknown;
  metadata_: Record<string, string> | null;
  flow_run_id: string | null;
  task_run_id: string | null;
}

/** An ArtifactCollection (the latest version of a key), as `/artifacts/latest/filter` returns it. */
export interface ArtifactCollectionJson extends Omit<ArtifactJson, 'key'> {
  key: string;
  latest_id: string;
}
