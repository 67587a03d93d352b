/**
 * scripts/binary-format.ts reads a binary's machine from its header: synthetic headers of each
 * format, the lmdb addons npm installed here (the glibc and musl builds must not pass for each
 * other), and the checks a target puts on an addon and an executable.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeFormat, formatProblems, inspectBinary } from "../../scripts/binary-format.ts";
import { adHocSign } from "../../scripts/macho-sign.ts";
import { parseTarget } from "../../scripts/targets.ts";
import { CPU_ARM64, CPU_X64, elf, macho, pe } from "./synthetic.ts";

const installed = join(import.meta.dir, "../../node_modules/@lmdb/lmdb-linux-x64");

describe("ELF", () => {
  test("an x86-64 executable with glibc's interpreter", () => {
    const f = inspectBinary(elf({ machine: 0x3e, interpreter: "/lib64/ld-linux-x86-64.so.2", needed: ["libc.so.6"] }));
    expect(f).toMatchObject({ format: "elf", arch: "x64", bits: 64, kind: "executable", libc: "glibc" });
    expect(f.interpreter).toBe("/lib64/ld-linux-x86-64.so.2");
    expect(f.needed).toEqual(["libc.so.6"]);
    expect(formatProblems(elf({ machine: 0x3e, interpreter: "/lib64/ld-linux-x86-64.so.2" }), parseTarget("linux-x64"), "executable")).toEqual([]);
  });

  test("an AArch64 executable with musl's interpreter is linux-arm64-musl's, not linux-arm64's", () => {
    const bytes = elf({ machine: 0xb7, interpreter: "/lib/ld-musl-aarch64.so.1" });
    expect(inspectBinary(bytes)).toMatchObject({ arch: "arm64", libc: "musl", kind: "executable" });
    expect(formatProblems(bytes, parseTarget("linux-arm64-musl"), "executable")).toEqual([]);
    const problems = formatProblems(bytes, parseTarget("linux-arm64"), "executable");
    expect(problems[0]).toBe('libc is "musl", linux-arm64 needs "glibc"');
  });

  test("a shared object's libc comes from DT_NEEDED: libc.so.6 is glibc, libc.so is musl", () => {
    expect(inspectBinary(elf({ machine: 0xb7, needed: ["libstdc++.so.6", "libc.so.6"] }))).toMatchObject({
      kind: "shared-library",
      libc: "glibc",
    });
    expect(inspectBinary(elf({ machine: 0xb7, needed: ["libstdc++.so.6", "libc.so"] }))).toMatchObject({ libc: "musl" });
    expect(inspectBinary(elf({ machine: 0x3e, needed: ["libc.musl-x86_64.so.1"] }))).toMatchObject({ libc: "musl" });
    expect(inspectBinary(elf({ machine: 0x3e, needed: [] })).libc).toBeUndefined();
  });

  test("the wrong machine is named", () => {
    const problems = formatProblems(elf({ machine: 0xb7, needed: ["libc.so.6"] }), parseTarget("linux-x64"), "shared-library");
    expect(problems).toEqual(['arch is "arm64", linux-x64 needs "x64"', "found: ELF 64-bit arm64 shared-library, glibc"]);
    expect(inspectBinary(elf({ machine: 0x28 })).arch).toBe("arm");
    expect(inspectBinary(elf({ machine: 0x1234 })).arch).toBe("machine 0x1234");
  });

  test("a truncated header is an error, not a guess", () => {
    const whole = elf({ machine: 0x3e, interpreter: "/lib64/ld-linux-x86-64.so.2" });
    expect(() => inspectBinary(whole.subarray(0, 70))).toThrow(/truncated or corrupt/);
  });
});

describe("the lmdb addons npm installed here", () => {
  const glibc = readFileSync(join(installed, "node.napi.glibc.node"));
  const musl = readFileSync(join(installed, "node.napi.musl.node"));

  test("node.napi.glibc.node is an x86-64 glibc shared object and fits linux-x64 only", () => {
    const f = inspectBinary(glibc);
    expect(f).toMatchObject({ format: "elf", arch: "x64", kind: "shared-library", libc: "glibc" });
    expect(f.needed).toContain("libstdc++.so.6");
    expect(formatProblems(glibc, parseTarget("linux-x64"), "shared-library")).toEqual([]);
    expect(formatProblems(glibc, parseTarget("linux-x64-musl"), "shared-library")[0]).toMatch(/^libc is "glibc"/);
    expect(formatProblems(glibc, parseTarget("linux-arm64"), "shared-library")[0]).toMatch(/^arch is "x64"/);
    expect(formatProblems(glibc, parseTarget("darwin-x64"), "shared-library")[0]).toMatch(/^format is "elf"/);
    expect(formatProblems(glibc, parseTarget("windows-x64"), "shared-library")[0]).toMatch(/^format is "elf"/);
  });

  test("node.napi.musl.node is the musl build and fits linux-x64-musl only", () => {
    expect(inspectBinary(musl)).toMatchObject({ arch: "x64", libc: "musl" });
    expect(formatProblems(musl, parseTarget("linux-x64-musl"), "shared-library")).toEqual([]);
    expect(formatProblems(musl, parseTarget("linux-x64"), "shared-library")[0]).toMatch(/^libc is "musl"/);
  });

  test("an addon is not an executable", () => {
    expect(formatProblems(glibc, parseTarget("linux-x64"), "executable")[0]).toBe(
      'kind is "shared-library", linux-x64 needs "executable"',
    );
  });
});

describe("Mach-O", () => {
  test("cputype and file type", () => {
    expect(inspectBinary(macho({ cpu: CPU_ARM64 }))).toMatchObject({ format: "macho", arch: "arm64", kind: "executable", signature: "none" });
    expect(inspectBinary(macho({ cpu: CPU_X64, fileType: 8 }))).toMatchObject({ arch: "x64", kind: "shared-library" });
  });

  test("a darwin executable must carry a signature that matches its bytes", () => {
    const unsigned = macho({ cpu: CPU_ARM64 });
    expect(formatProblems(unsigned, parseTarget("darwin-arm64"), "executable")[0]).toBe(
      'signature is "none", darwin-arm64 needs "valid"',
    );
    // an addon needs none (lmdb's darwin-x64 addon is unsigned)
    expect(formatProblems(macho({ cpu: CPU_X64, fileType: 8 }), parseTarget("darwin-x64"), "shared-library")).toEqual([]);
  });

  test("a stale signature is found page by page, an ad-hoc re-signature passes", () => {
    const stale = new Uint8Array(64);
    new DataView(stale.buffer).setUint32(0, 0xfade0cc0); // a SuperBlob with no CodeDirectory
    const bytes = macho({ cpu: CPU_X64, pages: 4, signature: stale });
    expect(inspectBinary(bytes)).toMatchObject({ signature: "invalid", signatureProblem: "the signature has no CodeDirectory" });

    const signed = adHocSign(bytes, "artifactd");
    const f = inspectBinary(signed);
    expect(f.signature).toBe("valid");
    expect(describeFormat(f)).toBe("Mach-O 64-bit x64 executable, valid signature");
    expect(formatProblems(signed, parseTarget("darwin-x64"), "executable")).toEqual([]);
    // re-signing a validly signed file changes nothing
    expect(Buffer.from(adHocSign(signed, "artifactd")).equals(Buffer.from(signed))).toBe(true);

    const tampered = signed.slice();
    tampered[2 * 4096 + 5] ^= 1;
    expect(inspectBinary(tampered)).toMatchObject({ signature: "invalid", signatureProblem: "1 of 4 page hashes do not match (first: page 2)" });
  });

  test("bytes added before the signature, outside the signed range, are found", () => {
    const signed = adHocSign(macho({ cpu: CPU_ARM64, pages: 2, signature: new Uint8Array(64) }), "x");
    // move the signature one page later, as a tool that inserts data without re-signing would
    const v = new DataView(signed.buffer);
    const at = 32 + 72 * 2;
    const offset = v.getUint32(at + 8, true);
    const grown = new Uint8Array(signed.length + 4096);
    grown.set(signed.subarray(0, offset));
    grown.set(signed.subarray(offset), offset + 4096);
    new DataView(grown.buffer).setUint32(at + 8, offset + 4096, true);
    expect(inspectBinary(grown).signatureProblem).toBe(
      `the signature covers the first ${offset} bytes, but the signed code runs to ${offset + 4096}: 4096 bytes are outside it`,
    );
  });

  test("a universal binary is refused", () => {
    expect(() => inspectBinary(new Uint8Array([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]))).toThrow(/universal/);
  });
});

describe("PE", () => {
  test("an AMD64 console program is windows-x64's executable", () => {
    const bytes = pe({ machine: 0x8664 });
    expect(inspectBinary(bytes)).toMatchObject({ format: "pe", arch: "x64", bits: 64, kind: "executable", subsystem: "console" });
    expect(formatProblems(bytes, parseTarget("windows-x64"), "executable")).toEqual([]);
  });

  test("a GUI program, an ARM64 one and a DLL are not", () => {
    const target = parseTarget("windows-x64");
    expect(formatProblems(pe({ machine: 0x8664, subsystem: 2 }), target, "executable")[0]).toBe(
      'subsystem is "gui", windows-x64 needs "console"',
    );
    expect(formatProblems(pe({ machine: 0xaa64 }), target, "executable")[0]).toBe('arch is "arm64", windows-x64 needs "x64"');
    expect(formatProblems(pe({ machine: 0x8664, dll: true }), target, "executable")[0]).toBe(
      'kind is "shared-library", windows-x64 needs "executable"',
    );
    expect(formatProblems(pe({ machine: 0x8664, dll: true, subsystem: 2 }), target, "shared-library")).toEqual([]);
  });

  test("MZ without a PE header", () => {
    const bytes = pe({ machine: 0x8664 });
    bytes[0x41] = 0;
    expect(() => inspectBinary(bytes)).toThrow(/without a PE signature/);
  });
});

test("anything else is named by its first bytes", () => {
  expect(() => inspectBinary(new TextEncoder().encode("#!/bin/sh\n"))).toThrow("not an ELF, Mach-O or PE file (starts with 23 21 2f 62)");
  expect(formatProblems(new Uint8Array(), parseTarget("linux-x64"), "executable")).toEqual([
    "not an ELF, Mach-O or PE file (starts with nothing)",
  ]);
});
