/**
 * Builds every target into dist/release/, with checksums and a manifest, for publishing.
 *
 *   npm run release                          # every target (scripts/targets.ts)
 *   npm run release -- --targets linux-arm64,darwin-arm64 [--out DIR]
 *
 * Writes, in DIR (default dist/release, emptied first):
 *   artifactd-<target>[.exe]   one per target, built by scripts/build.ts with --target (the lmdb
 *                              addon and Bun runtime of that target, verified against the lockfile)
 *   SHA256SUMS                 `sha256sum -c SHA256SUMS` checks them (run it in DIR)
 *   manifest.json              per target: file, size, sha256, Bun's compile target, the runtime
 *                              and addon packages with their lockfile integrity and the addon's
 *                              sha256; once: Bun and lmdb versions, the git commit and whether the
 *                              work tree had changes (a dirty build is not the commit's build)
 *
 * Decided here: the manifest has no timestamp, so two releases of one commit can be compared file
 * by file, manifest included (README: whether the executables are byte-identical, measured).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { buildExecutable, type BuildResult } from "./build.ts";
import { parseTarget, TARGETS, type Target } from "./targets.ts";

function git(projectRoot: string, ...args: string[]): string | null {
  const proc = Bun.spawnSync(["git", ...args], { cwd: projectRoot, stdout: "pipe", stderr: "pipe" });
  return proc.exitCode === 0 ? proc.stdout.toString().trim() : null;
}

export function parseReleaseArgs(args: string[], projectRoot: string): { targets: Target[]; out: string } {
  let targets: Target[] = [...TARGETS];
  let out = join(projectRoot, "dist", "release");
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (!v) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === "--targets") targets = value().split(",").map((name) => parseTarget(name.trim()));
    else if (flag === "--out") out = resolve(value());
    else throw new Error(`unknown argument ${arg}; usage: npm run release -- [--targets a,b] [--out DIR]`);
  }
  return { targets, out };
}

export function manifestEntry(r: BuildResult) {
  return {
    target: r.target.name,
    file: basename(r.outfile),
    size: r.size,
    sha256: r.sha256,
    bunTarget: r.target.bunTarget,
    runtime: { package: r.runtime.name, version: r.runtime.version, integrity: r.runtime.integrity },
    addon: {
      package: r.addon.name,
      version: r.addon.version,
      file: r.addon.file,
      integrity: r.addon.integrity,
      sha256: r.addon.sha256,
    },
    ...(r.resigned ? { resignedAdHoc: r.resigned } : {}),
  };
}

if (import.meta.main) {
  const projectRoot = resolve(import.meta.dir, "..");
  try {
    const { targets, out } = parseReleaseArgs(process.argv.slice(2), projectRoot);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const started = performance.now();
    const results: BuildResult[] = [];
    for (const target of targets) {
      const t0 = performance.now();
      const result = await buildExecutable({
        projectRoot,
        target,
        outfile: join(out, `artifactd-${target.name}${target.suffix}`),
      });
      console.log(`  ${target.name}: ${Math.round(performance.now() - t0)} ms with fetching and checks`);
      results.push(result);
    }

    const sums = results.map((r) => `${r.sha256}  ${basename(r.outfile)}\n`).join("");
    writeFileSync(join(out, "SHA256SUMS"), sums);
    const status = git(projectRoot, "status", "--porcelain");
    const manifest = {
      name: "artifactd",
      version: (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version,
      commit: git(projectRoot, "rev-parse", "HEAD"),
      dirty: status === null ? null : status !== "",
      bun: results[0]?.bunVersion ?? Bun.version,
      lmdb: results[0]?.lmdbVersion ?? null,
      targets: results.map(manifestEntry),
    };
    writeFileSync(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    const sumsHash = createHash("sha256").update(sums).digest("hex").slice(0, 16);
    console.log(
      `released ${results.length} targets to ${out} in ${Math.round(performance.now() - started)} ms ` +
        `(commit ${manifest.commit?.slice(0, 12) ?? "unknown"}${manifest.dirty ? ", dirty work tree" : ""}; SHA256SUMS ${sumsHash}…)`,
    );
  } catch (err) {
    console.error(`release failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
