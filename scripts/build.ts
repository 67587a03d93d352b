/**
 * Builds the standalone executable dist/artifactd from src/main.ts.
 *
 *   npm run build                       # = bun scripts/build.ts
 *   bun scripts/build.ts [entry] [outfile]   # overrides, e.g. for testing the build itself
 *
 * lmdb's native addon is embedded by ./embed-lmdb-addon.ts (see the comment there).
 */
import { mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { embedLmdbAddon } from "./embed-lmdb-addon.ts";

const projectRoot = resolve(import.meta.dir, "..");
const entry = resolve(process.argv[2] ?? `${projectRoot}/src/main.ts`);
const outfile = resolve(process.argv[3] ?? `${projectRoot}/dist/artifactd`);
const queryWorker = `${projectRoot}/src/store/lmdb/query/query-worker.ts`;

let plugin;
try {
  plugin = embedLmdbAddon({ projectRoot });
} catch (err) {
  console.error(`build failed: ${(err as Error).message}`);
  process.exit(1);
}

mkdirSync(dirname(outfile), { recursive: true });

const started = performance.now();
const result = await Bun.build({
  // The query thread's entry point is a second entry, which the executable embeds and
  // `new Worker(new URL("./query-worker.ts", import.meta.url))` finds (src/store/lmdb/query/query-thread.ts).
  entrypoints: [entry, queryWorker],
  target: "bun",
  minify: true,
  sourcemap: "none",
  plugins: [plugin],
  compile: {
    outfile,
    // A server should not pick up a stray .env or bunfig.toml from whatever
    // directory it happens to be started in; configuration comes from flags/env.
    autoloadDotenv: false,
    autoloadBunfig: false,
  },
  throw: false,
});

if (!result.success) {
  console.error("build failed:");
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
for (const log of result.logs) console.warn(log);

const size = statSync(outfile).size;
console.log(
  `built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MiB) in ${Math.round(performance.now() - started)} ms`,
);
