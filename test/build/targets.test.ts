/**
 * The target table (scripts/targets.ts) against what the lockfile and the installed packages
 * hold, and how `npm run build` / `npm run release` read their arguments — including a real
 * `bun scripts/build.ts` run that must refuse an unknown target before building anything.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defaultOutfile, parseBuildArgs } from "../../scripts/build.ts";
import { lockedPackage } from "../../scripts/locked-package.ts";
import { parseReleaseArgs } from "../../scripts/release.ts";
import { hostTarget, parseTarget, TARGET_NAMES, TARGETS } from "../../scripts/targets.ts";

const root = join(import.meta.dir, "../..");
const lockfile = join(root, "package-lock.json");

describe("the targets", () => {
  test("the issue's five, and musl for Alpine", () => {
    expect(TARGET_NAMES).toEqual(["linux-x64", "linux-arm64", "linux-x64-musl", "linux-arm64-musl", "darwin-arm64", "darwin-x64", "windows-x64"]);
    expect(TARGETS.filter((t) => t.suffix === ".exe").map((t) => t.name)).toEqual(["windows-x64"]);
  });

  test("the lockfile pins every target's lmdb addon and Bun runtime, at lmdb's and bun's versions, with a sha512", () => {
    const lmdb = lockedPackage(lockfile, "lmdb").version;
    const bun = lockedPackage(lockfile, "bun").version;
    for (const t of TARGETS) {
      expect(lockedPackage(lockfile, t.addonPackage)).toMatchObject({ version: lmdb, integrity: expect.stringMatching(/^sha512-/) });
      expect(lockedPackage(lockfile, t.runtimePackage)).toMatchObject({ version: bun, integrity: expect.stringMatching(/^sha512-/) });
    }
  });

  test("linux targets take the N-API build of their libc; darwin and windows the one N-API build", () => {
    for (const t of TARGETS) {
      expect(t.addonFile).toBe(t.os === "linux" ? `node.napi.${t.libc}.node` : "node.napi.node");
    }
    // the installed linux-x64 package holds both libc builds the table names
    for (const t of TARGETS.filter((t) => t.addonPackage === "@lmdb/lmdb-linux-x64")) {
      expect(existsSync(join(root, "node_modules", t.addonPackage, t.addonFile))).toBe(true);
    }
  });

  test("this machine is linux-x64 (glibc), the host CI and dist/artifactd are built on", () => {
    if (process.platform === "linux" && process.arch === "x64") expect(hostTarget().name).toMatch(/^linux-x64/);
    expect(TARGET_NAMES).toContain(hostTarget().name);
  });

  test("an unknown target names the valid ones", () => {
    expect(parseTarget("darwin-arm64").bunTarget).toBe("bun-darwin-arm64");
    expect(() => parseTarget("linux-aarch64")).toThrow(`unknown target "linux-aarch64"; targets: ${TARGET_NAMES.join(", ")}`);
  });
});

describe("npm run build -- arguments", () => {
  test("--target T, --target=T, entry and outfile", () => {
    expect(parseBuildArgs([])).toEqual({ target: undefined, entry: undefined, outfile: undefined });
    expect(parseBuildArgs(["--target", "linux-arm64"]).target?.name).toBe("linux-arm64");
    expect(parseBuildArgs(["--target=windows-x64", "a.ts", "out"])).toMatchObject({ entry: "a.ts", outfile: "out" });
    expect(parseBuildArgs(["a.ts", "out"])).toEqual({ target: undefined, entry: "a.ts", outfile: "out" });
  });

  test("mistakes are errors", () => {
    expect(() => parseBuildArgs(["--target"])).toThrow("--target needs a value");
    expect(() => parseBuildArgs(["--target="])).toThrow("--target needs a value");
    expect(() => parseBuildArgs(["--target", "nope"])).toThrow(/unknown target "nope"/);
    expect(() => parseBuildArgs(["--target", "linux-x64", "--target", "darwin-x64"])).toThrow(/given twice/);
    expect(() => parseBuildArgs(["--targets", "x"])).toThrow(/unknown option --targets/);
    expect(() => parseBuildArgs(["a", "b", "c"])).toThrow("too many arguments: a b c");
  });

  test("outfiles: dist/artifactd for this machine, dist/artifactd-<target>[.exe] for a target", () => {
    expect(defaultOutfile(root)).toBe(join(root, "dist", `artifactd${hostTarget().suffix}`));
    expect(defaultOutfile(root, parseTarget("linux-arm64"))).toBe(join(root, "dist", "artifactd-linux-arm64"));
    expect(defaultOutfile(root, parseTarget("windows-x64"))).toBe(join(root, "dist", "artifactd-windows-x64.exe"));
  });

  test("bun scripts/build.ts --target nope fails at once and builds nothing", () => {
    const proc = Bun.spawnSync([process.execPath, join(root, "scripts/build.ts"), "--target", "nope"], { stderr: "pipe", stdout: "pipe" });
    expect(proc.exitCode).toBe(1);
    expect(proc.stderr.toString()).toBe(`build failed: unknown target "nope"; targets: ${TARGET_NAMES.join(", ")}\n`);
  });
});

describe("npm run release -- arguments", () => {
  test("every target into dist/release by default; a subset and a folder on request", () => {
    expect(parseReleaseArgs([], root)).toEqual({ targets: [...TARGETS], out: join(root, "dist", "release") });
    const some = parseReleaseArgs(["--targets", "linux-arm64, darwin-x64", "--out=/tmp/r"], root);
    expect(some.targets.map((t) => t.name)).toEqual(["linux-arm64", "darwin-x64"]);
    expect(some.out).toBe("/tmp/r");
    expect(() => parseReleaseArgs(["--targets", "linux-arm64,bsd"], root)).toThrow(/unknown target "bsd"/);
    expect(() => parseReleaseArgs(["--target", "linux-arm64"], root)).toThrow(/unknown argument --target/);
    expect(() => parseReleaseArgs(["--out"], root)).toThrow("--out needs a value");
  });
});
