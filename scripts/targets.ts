/**
 * The machines artifactd is built for: one row per target, naming everything that differs
 * between them, so the build, the release and CI read the same facts.
 *
 * Decided here:
 *   - which Bun runtime each target uses (Bun's compile target, and the `@oven/bun-*` package
 *     that carries that runtime, pinned by package-lock.json like every other package);
 *   - which lmdb addon each target embeds: the `@lmdb/lmdb-<os>-<arch>` package lmdb lists as
 *     optional, and the N-API file inside it. lmdb 3.5.6's packages hold, per platform:
 *       linux-x64, linux-arm64   node.napi.glibc.node, node.napi.musl.node (+ abi115/abi127 builds
 *                                for specific Node versions, which Bun cannot use)
 *       darwin-x64, darwin-arm64 node.napi.node (Mach-O bundle)
 *       win32-x64, win32-arm64   node.napi.node (PE DLL)
 *     so Alpine (musl) gets targets of its own, with the musl addon;
 *   - what a correct file looks like for each target (scripts/binary-format.ts checks both the
 *     addon before it is embedded and the executable after it is built).
 *
 * windows-arm64 has a Bun runtime and an lmdb addon too, but is not a target: nobody asked for it
 * and nothing here can run it. Adding it is one row.
 */
import { existsSync } from "node:fs";

export type Os = "linux" | "darwin" | "windows";
export type Arch = "x64" | "arm64";
export type Libc = "glibc" | "musl";

export interface Target {
  /** What `--target` takes and what release files are named after: `linux-arm64`, `windows-x64`. */
  name: string;
  os: Os;
  arch: Arch;
  /** Linux only. */
  libc?: Libc;
  /** Bun's compile target. */
  bunTarget: Bun.Build.CompileTarget;
  /** The npm package holding this target's Bun runtime (`bin/bun` or `bin/bun.exe`). */
  runtimePackage: string;
  runtimeFile: string;
  /** The npm package holding this target's lmdb addon, and the addon's file inside it. */
  addonPackage: string;
  addonFile: string;
  /** Executable file name suffix. */
  suffix: "" | ".exe";
}

function linux(arch: Arch, libc: Libc): Target {
  const bunArch = arch === "x64" ? "x64" : "aarch64";
  return {
    name: `linux-${arch}${libc === "musl" ? "-musl" : ""}`,
    os: "linux",
    arch,
    libc,
    bunTarget: `bun-linux-${arch}${libc === "musl" ? "-musl" : ""}` as Bun.Build.CompileTarget,
    runtimePackage: `@oven/bun-linux-${bunArch}${libc === "musl" ? "-musl" : ""}`,
    runtimeFile: "bin/bun",
    addonPackage: `@lmdb/lmdb-linux-${arch}`,
    addonFile: `node.napi.${libc}.node`,
    suffix: "",
  };
}

function darwin(arch: Arch): Target {
  return {
    name: `darwin-${arch}`,
    os: "darwin",
    arch,
    bunTarget: `bun-darwin-${arch}`,
    runtimePackage: `@oven/bun-darwin-${arch === "x64" ? "x64" : "aarch64"}`,
    runtimeFile: "bin/bun",
    addonPackage: `@lmdb/lmdb-darwin-${arch}`,
    addonFile: "node.napi.node",
    suffix: "",
  };
}

export const TARGETS: readonly Target[] = [
  linux("x64", "glibc"),
  linux("arm64", "glibc"),
  linux("x64", "musl"),
  linux("arm64", "musl"),
  darwin("arm64"),
  darwin("x64"),
  {
    name: "windows-x64",
    os: "windows",
    arch: "x64",
    bunTarget: "bun-windows-x64",
    runtimePackage: "@oven/bun-windows-x64",
    runtimeFile: "bin/bun.exe",
    addonPackage: "@lmdb/lmdb-win32-x64",
    addonFile: "node.napi.node",
    suffix: ".exe",
  },
];

export const TARGET_NAMES = TARGETS.map((t) => t.name);

/** The target named `name`, or an error that lists the valid names. */
export function parseTarget(name: string): Target {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) {
    throw new Error(`unknown target ${JSON.stringify(name)}; targets: ${TARGET_NAMES.join(", ")}`);
  }
  return target;
}

function isMusl(): boolean {
  // process.report's header carries glibcVersionRuntime only on glibc systems.
  const header = (process.report?.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  if (header) return !header.glibcVersionRuntime;
  return existsSync("/lib/ld-musl-x86_64.so.1") || existsSync("/lib/ld-musl-aarch64.so.1");
}

/** The target of the machine this runs on, or an error naming the machine when none fits. */
export function hostTarget(): Target {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const libc = os === "linux" ? (isMusl() ? "-musl" : "") : "";
  const name = `${os}-${process.arch}${libc}`;
  const target = TARGETS.find((t) => t.name === name);
  if (!target) {
    throw new Error(`this machine is ${name}, which is not a target; targets: ${TARGET_NAMES.join(", ")}`);
  }
  return target;
}
