/**
 * Builds the standalone executable from src/main.ts, for this machine or for another target.
 *
 *   npm run build                               # this machine -> dist/artifactd (= bun scripts/build.ts)
 *   npm run build -- --target linux-arm64       # -> dist/artifactd-linux-arm64 (targets: scripts/targets.ts)
 *   bun scripts/build.ts [--target T] [entry] [outfile]   # overrides, e.g. for testing the build itself
 *
 * Decided here:
 *   - Without --target the build is what it always was: the running Bun as the runtime and the
 *     lmdb addon npm installed for this machine (npm ci checked that package against the
 *     lockfile's integrity when it installed it). It works offline.
 *   - With --target T, nothing installed is used: T's lmdb addon and T's Bun runtime (the
 *     `@oven/bun-*` package, passed to Bun as `executablePath`, instead of letting Bun download
 *     one unchecked) come from scripts/locked-package.ts — the lockfile's exact version, its
 *     sha512 verified here. This holds for linux-x64 too, so a release is built the same way on
 *     any machine.
 *   - The running Bun must be the lockfile's (`node_modules/.bin/bun`, which `npm run` puts
 *     first): the bundler and the runtime it writes into the executable must agree.
 *   - Nothing wrong reaches a user: the addon's format is checked before it is embedded, and the
 *     executable after it is written (scripts/check-executable.ts: its format, its own addon's
 *     bytes inside, no other target's). A failing executable is deleted and the build fails.
 *   - A darwin executable whose code signature does not match its bytes (Bun's darwin-x64 output)
 *     is re-signed ad hoc (./macho-sign.ts) before that check, which requires a valid signature.
 *
 * lmdb's native addon is embedded by ./embed-lmdb-addon.ts (see the comment there).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describeFormat, formatProblems, inspectBinary } from "./binary-format.ts";
import { executableProblems, type AddonBytes } from "./check-executable.ts";
import { embedLmdbAddon, resolveLmdbAddon } from "./embed-lmdb-addon.ts";
import { adHocSign } from "./macho-sign.ts";
import { defaultCacheDir, lockedFile, lockedPackage, type Fetcher, type LockedPackage } from "./locked-package.ts";
import { hostTarget, parseTarget, TARGETS, type Target } from "./targets.ts";

export interface BuildResult {
  target: Target;
  outfile: string;
  size: number;
  sha256: string;
  /** Bundle and compile, without fetching. */
  buildMs: number;
  /** Set when Bun's Mach-O signature did not match and the build re-signed ad hoc: what was wrong. */
  resigned?: string;
  bunVersion: string;
  lmdbVersion: string;
  runtime: LockedPackage & { source: "running bun" | "verified download" };
  addon: LockedPackage & { file: string; sha256: string; source: "installed package" | "verified download" };
}

export interface BuildOptions {
  projectRoot: string;
  /** Omitted: this machine's target, built from what is installed. */
  target?: Target;
  entry?: string;
  outfile?: string;
  cacheDir?: string;
  fetch?: Fetcher;
  log?: (line: string) => void;
}

export function defaultOutfile(projectRoot: string, target?: Target): string {
  if (!target) return join(projectRoot, "dist", `artifactd${hostTarget().suffix}`);
  return join(projectRoot, "dist", `artifactd-${target.name}${target.suffix}`);
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

export async function buildExecutable(options: BuildOptions): Promise<BuildResult> {
  const { projectRoot } = options;
  const log = options.log ?? console.log;
  const cross = options.target !== undefined;
  const target = options.target ?? hostTarget();
  const lockfile = join(projectRoot, "package-lock.json");
  const cacheDir = options.cacheDir ?? defaultCacheDir(projectRoot);
  const entry = resolve(options.entry ?? `${projectRoot}/src/main.ts`);
  const outfile = resolve(options.outfile ?? defaultOutfile(projectRoot, options.target));
  const queryWorker = `${projectRoot}/src/store/lmdb/query/query-worker.ts`;
  mkdirSync(dirname(outfile), { recursive: true });
  rmSync(outfile, { force: true });

  const bun = lockedPackage(lockfile, "bun");
  if (Bun.version !== bun.version) {
    throw new Error(
      `this is Bun ${Bun.version}, package-lock.json pins bun ${bun.version}: build with \`npm run build\` ` +
        `or node_modules/.bin/bun, not another Bun`,
    );
  }
  const lmdbVersion = lockedPackage(lockfile, "lmdb").version;
  const addonPin = lockedPackage(lockfile, target.addonPackage);

  // The addons this target must embed, and must not (the other libc's file of the same package).
  const fetchFile = (name: string, file: string, writeTo?: string) =>
    lockedFile({ lockfile, name, file, cacheDir, fetch: options.fetch, writeTo });
  const addonFor = (t: Target): { path: string; bytes: Uint8Array } => {
    if (cross) return fetchFile(t.addonPackage, t.addonFile);
    const path = resolveLmdbAddon(projectRoot, t, addonPin.version);
    return { path, bytes: readFileSync(path) };
  };
  const addon = addonFor(target);
  const label = (t: Target) => `${t.addonPackage}/${t.addonFile}`;
  const addonProblems = formatProblems(addon.bytes, target, "shared-library");
  if (addonProblems.length) {
    throw new Error(`${label(target)} is not a ${target.name} addon:\n  ${addonProblems.join("\n  ")}`);
  }
  const siblings: AddonBytes[] = TARGETS.filter((t) => t.addonPackage === target.addonPackage && t.addonFile !== target.addonFile).map(
    (t) => ({ label: label(t), bytes: addonFor(t).bytes }),
  );

  // Bun compiles into a folder of its own, as `artifactd[.exe]` whatever the outfile is called:
  // Bun stores the file's name inside the executable (/$bunfs/root/<name>), and this way
  // dist/artifactd and the release's artifactd-linux-x64 are the same bytes. Only a checked
  // executable is moved to outfile (an old one was removed first, so a failed build leaves none).
  const stage = mkdtempSync(join(dirname(outfile), ".artifactd-build-"));
  const staged = join(stage, `artifactd${target.suffix}`);
  // The runtime (~100 MB) is written for this build only; the cache keeps its tarball.
  const runtimeDir = cross ? mkdtempSync(join(tmpdir(), "artifactd-runtime-")) : undefined;
  let runtime: BuildResult["runtime"] = { ...bun, source: "running bun" };
  let buildMs: number;
  try {
    let executablePath: string | undefined;
    if (cross) {
      const rt = fetchFile(target.runtimePackage, target.runtimeFile, runtimeDir);
      const rtProblems = formatProblems(rt.bytes, target, "executable");
      if (rtProblems.length) {
        throw new Error(`${target.runtimePackage}/${target.runtimeFile} is not a ${target.name} runtime:\n  ${rtProblems.join("\n  ")}`);
      }
      if (rt.pkg.version !== bun.version) {
        throw new Error(`package-lock.json pins ${target.runtimePackage} ${rt.pkg.version} but bun ${bun.version}`);
      }
      executablePath = rt.path;
      runtime = { ...rt.pkg, source: "verified download" };
    }

    const started = performance.now();
    const result = await Bun.build({
      // The query thread's entry point is a second entry, which the executable embeds and
      // `new Worker(new URL("./query-worker.ts", import.meta.url))` finds (src/store/lmdb/query/query-thread.ts).
      entrypoints: [entry, queryWorker],
      target: "bun",
      minify: true,
      sourcemap: "none",
      plugins: [embedLmdbAddon(addon.path)],
      compile: {
        ...(cross ? { target: target.bunTarget, executablePath } : {}),
        outfile: staged,
        // A server should not pick up a stray .env or bunfig.toml from whatever
        // directory it happens to be started in; configuration comes from flags/env.
        autoloadDotenv: false,
        autoloadBunfig: false,
      },
      throw: false,
    });
    if (!result.success) {
      throw new Error(`Bun.build failed:\n${result.logs.map(String).join("\n")}`);
    }
    for (const l of result.logs) console.warn(l);
    buildMs = Math.round(performance.now() - started);
  } catch (err) {
    rmSync(stage, { recursive: true, force: true });
    throw err;
  } finally {
    if (runtimeDir) rmSync(runtimeDir, { recursive: true, force: true });
  }

  let exe: Uint8Array;
  let resigned: string | undefined;
  try {
    if (!existsSync(staged)) throw new Error(`Bun.build reported success but wrote no ${staged}`);
    exe = readFileSync(staged);
    if (target.os === "darwin") {
      // Bun signs darwin-arm64 output correctly but leaves darwin-x64 with the runtime's stale
      // signature (./macho-sign.ts): replace any signature that does not match the bytes.
      const before = inspectBinary(exe);
      if (before.signature !== "valid") {
        resigned = before.signatureProblem ?? `Bun's output is ${before.signature === "none" ? "unsigned" : "badly signed"}`;
        exe = adHocSign(exe, "artifactd");
        writeFileSync(staged, exe);
      }
    }
    const problems = executableProblems(exe, target, { label: label(target), bytes: addon.bytes }, siblings);
    if (problems.length) {
      throw new Error(`the ${target.name} executable is not correct (not written to ${outfile}):\n  ${problems.join("\n  ")}`);
    }
    renameSync(staged, outfile);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }

  const size = statSync(outfile).size;
  log(
    `built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MiB) in ${buildMs} ms: ${describeFormat(inspectBinary(exe))}; ` +
      `embeds ${label(target)}@${addonPin.version} (${cross ? "sha512 verified against package-lock.json" : "installed package"})` +
      (resigned ? `; re-signed ad hoc (Bun's signature: ${resigned})` : ""),
  );
  return {
    target,
    outfile,
    size,
    sha256: sha256(exe),
    buildMs,
    ...(resigned ? { resigned } : {}),
    bunVersion: Bun.version,
    lmdbVersion,
    runtime,
    addon: {
      ...addonPin,
      file: target.addonFile,
      sha256: sha256(addon.bytes),
      source: cross ? "verified download" : "installed package",
    },
  };
}

/** `[--target T] [entry] [outfile]` (also `--target=T`). */
export function parseBuildArgs(args: string[]): { target?: Target; entry?: string; outfile?: string } {
  let target: Target | undefined;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--target" || arg.startsWith("--target=")) {
      const value = arg === "--target" ? args[++i] : arg.slice("--target=".length);
      if (!value) throw new Error("--target needs a value");
      if (target) throw new Error("--target given twice; build one target at a time, or `npm run release` for all");
      target = parseTarget(value);
    } else if (arg.startsWith("-")) {
      throw new Error(`unknown option ${arg}; usage: bun scripts/build.ts [--target T] [entry] [outfile]`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length > 2) throw new Error(`too many arguments: ${positional.join(" ")}`);
  return { target, entry: positional[0], outfile: positional[1] };
}

if (import.meta.main) {
  try {
    const args = parseBuildArgs(process.argv.slice(2));
    await buildExecutable({ projectRoot: resolve(import.meta.dir, ".."), ...args });
  } catch (err) {
    console.error(`build failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
