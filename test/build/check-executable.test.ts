/**
 * scripts/check-executable.ts: an executable passes when its header fits the target, the target's
 * addon bytes are inside it and no other target's addon is — checked on a synthetic ELF carrying
 * the real lmdb addons npm installed here.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { executableProblems } from "../../scripts/check-executable.ts";
import { parseTarget } from "../../scripts/targets.ts";
import { elf } from "./synthetic.ts";

const dir = join(import.meta.dir, "../../node_modules/@lmdb/lmdb-linux-x64");
const glibc = { label: "@lmdb/lmdb-linux-x64/node.napi.glibc.node", bytes: new Uint8Array(readFileSync(join(dir, "node.napi.glibc.node"))) };
const musl = { label: "@lmdb/lmdb-linux-x64/node.napi.musl.node", bytes: new Uint8Array(readFileSync(join(dir, "node.napi.musl.node"))) };
const header = elf({ machine: 0x3e, interpreter: "/lib64/ld-linux-x86-64.so.2" });
const exe = (...parts: Uint8Array[]) => Buffer.concat([header, new Uint8Array(4096), ...parts, new Uint8Array(100)]);
const linuxX64 = parseTarget("linux-x64");

test("its own addon inside, no other: no problems", () => {
  expect(executableProblems(exe(glibc.bytes), linuxX64, glibc, [musl])).toEqual([]);
});

test("the addon missing, or a byte of it changed, is a problem", () => {
  expect(executableProblems(exe(), linuxX64, glibc, [musl])).toEqual([
    `the linux-x64 addon ${glibc.label} (${glibc.bytes.length} bytes) is not embedded`,
  ]);
  const changed = glibc.bytes.slice();
  changed[changed.length >> 1] ^= 1;
  expect(executableProblems(exe(changed), linuxX64, glibc, [musl])).toHaveLength(1);
});

test("another target's addon inside is a problem, even beside the right one", () => {
  expect(executableProblems(exe(glibc.bytes, musl.bytes), linuxX64, glibc, [musl])).toEqual([
    `${musl.label}, an addon for another target, is embedded`,
  ]);
});

test("the wrong header is reported with the addon findings", () => {
  const problems = executableProblems(exe(glibc.bytes), parseTarget("linux-x64-musl"), glibc, [musl]);
  expect(problems[0]).toBe('libc is "glibc", linux-x64-musl needs "musl"');
});
