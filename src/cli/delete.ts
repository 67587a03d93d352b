/**
 * `artifactd delete KEY` deletes every version of a key; `artifactd delete --id ID` one artifact
 * (a latest version hands "latest" to the previous one, as the API's DELETE does). Both ask first
 * on a terminal and refuse without `--yes` elsewhere. Exit status 1 when nothing matches, as
 * `prefect artifact delete`.
 */
import { parseUuid } from '../validation/uuid.ts';
import { artifactVersions } from './artifact-view.ts';
import { UsageError, type Command } from './command.ts';
import { confirm } from './confirm.ts';
import { CommandFailure, reportingFailures } from './failure.ts';
import { openSource, SOURCE_OPTIONS, type ArtifactSource } from './source.ts';
import { print } from './print.ts';

async function deleteKey(source: ArtifactSource, key: string, yes: boolean, json: boolean): Promise<number> {
  // Oldest first: each deletion then removes a non-latest version, and the collection goes with the last.
  const ids = (await source.versions(key, undefined)).rows.map((a) => a.id).reverse();
  if (ids.length === 0) throw new CommandFailure(`no artifact with key ${JSON.stringify(key)} (to delete one artifact by id, use --id)`);
  if (!(await confirm(`Delete ${artifactVersions(ids.length)} with key ${JSON.stringify(key)}?`, yes))) throw new CommandFailure('deletion aborted');
  const deleted = await source.deleteIds(ids);
  if (json) await print(JSON.stringify({ key, deleted }));
  else await print(`Deleted ${artifactVersions(deleted)} with key ${JSON.stringify(key)}.`);
  return 0;
}

async function deleteId(source: ArtifactSource, id: string, yes: boolean, json: boolean): Promise<number> {
  const artifact = await source.get(id);
  if (!artifact) throw new CommandFailure(`no artifact with id ${id}`);
  const what = artifact.key === null ? 'keyless artifact' : `artifact of key ${JSON.stringify(artifact.key)}`;
  if (!(await confirm(`Delete ${what} ${id}?`, yes))) throw new CommandFailure('deletion aborted');
  const deleted = await source.deleteIds([id]);
  if (deleted === 0) throw new CommandFailure(`no artifact with id ${id}`);
  if (json) await print(JSON.stringify({ id, deleted }));
  else await print(`Deleted artifact ${id}.`);
  return 0;
}

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'Delete every version of an artifact key, or one artifact with --id.',
  args: '[KEY]',
  maxArgs: 1,
  options: {
    id: { type: 'string', value: 'ID', description: 'delete the artifact with this id instead of a whole key' },
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (required when stdin is not a terminal)' },
    json: { type: 'boolean', description: 'print the result as JSON' },
    ...SOURCE_OPTIONS,
  },
  run: (values, args) =>
    reportingFailures(async () => {
      const key = args[0];
      const rawId = values.id as string | undefined;
      if (key !== undefined && rawId !== undefined) throw new UsageError('give either a KEY or --id, not both');
      if (key === undefined && rawId === undefined) throw new UsageError('delete needs a KEY or --id ID (see artifactd delete --help)');
      let id: string | undefined;
      if (rawId !== undefined) {
        const parsed = parseUuid(rawId);
        if (!parsed.ok) throw new UsageError(`invalid --id "${rawId}": not a UUID`);
        id = parsed.value;
      }
      const source = openSource(values);
      try {
        const yes = values.yes === true;
        const json = values.json === true;
        return id !== undefined ? await deleteId(source, id, yes, json) : await deleteKey(source, key!, yes, json);
      } finally {
        await source.close();
      }
    }),
};
