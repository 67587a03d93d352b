/**
 * Reads what machine a binary is for — from its header, not its name — so that a build cannot
 * embed an addon for the wrong platform, or ship an executable for the wrong one, unnoticed.
 *
 * Decided here:
 *   - the three formats our targets use and the fields that tell them apart:
 *       ELF     e_machine (x86-64, AArch64), whether it is an executable (PT_INTERP) or a shared
 *               object, and its C library: the program interpreter (ld-linux-* = glibc,
 *               ld-musl-* = musl) or, for a shared object such as lmdb's addon, its DT_NEEDED
 *               libc (libc.so.6 = glibc; libc.so or libc.musl-* = musl). lmdb's glibc and musl
 *               addons are both "ELF x86-64", so without the libc check the wrong one would pass.
 *       Mach-O  cputype (x86_64, arm64), filetype (executable, or dylib/bundle = shared library),
 *               and whether it carries a code signature (LC_CODE_SIGNATURE): macOS on arm64 kills
 *               unsigned executables.
 *       PE      Machine (AMD64, ARM64), the DLL flag, and the subsystem (a server is a console
 *               program).
 *   - `expectedFormat(target, kind)`: what the addon and the executable of each target must be;
 *     `formatProblems` lists every mismatch, in words, so a failing build says what it found.
 * Only the headers and the tables they point to are read; nothing is executed.
 */
import { createHash } from "node:crypto";
import type { Target } from "./targets.ts";

export type Kind = "executable" | "shared-library";

export interface BinaryFormat {
  format: "elf" | "macho" | "pe";
  /** x64, arm64, or the raw machine for others (arm, x86, machine 0x…). */
  arch: string;
  bits: 32 | 64;
  kind: Kind;
  /** ELF: PT_INTERP, the program interpreter. */
  interpreter?: string;
  /** ELF: DT_NEEDED, the shared libraries it links. */
  needed?: string[];
  /** ELF: the C library it is built against, from the interpreter or the needed libraries. */
  libc?: "glibc" | "musl";
  /** Mach-O: has an LC_CODE_SIGNATURE load command. */
  signed?: boolean;
  /**
   * Mach-O: whether that signature matches the file — every page hash of its CodeDirectory
   * recomputed over the bytes, and the signed range reaching the signature itself (what
   * `codesign --verify` checks of an ad-hoc signature; a certificate's validity is not checked).
   */
  signature?: "valid" | "invalid" | "none";
  /** Mach-O: why the signature is invalid. */
  signatureProblem?: string;
  /** PE: the Windows subsystem. */
  subsystem?: "console" | "gui" | number;
}

const ELF_MACHINES: Record<number, string> = { 0x3e: "x64", 0xb7: "arm64", 0x28: "arm", 0x03: "x86" };
const MACHO_CPUS: Record<number, string> = { 0x01000007: "x64", 0x0100000c: "arm64", 7: "x86", 12: "arm" };
const PE_MACHINES: Record<number, string> = { 0x8664: "x64", 0xaa64: "arm64", 0x14c: "x86", 0x1c4: "arm" };

class Reader {
  private view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private check(offset: number, size: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > this.bytes.length) {
      throw new Error(`truncated or corrupt header (read of ${size} bytes at ${offset}, file is ${this.bytes.length})`);
    }
  }
  u16(offset: number): number {
    this.check(offset, 2);
    return this.view.getUint16(offset, true);
  }
  u32(offset: number): number {
    this.check(offset, 4);
    return this.view.getUint32(offset, true);
  }
  u64(offset: number): number {
    this.check(offset, 8);
    return Number(this.view.getBigUint64(offset, true));
  }
  /** A NUL-terminated string starting at offset (at most `max` bytes). */
  cstring(offset: number, max = 4096): string {
    this.check(offset, 1);
    let end = offset;
    while (end < this.bytes.length && end - offset < max && this.bytes[end] !== 0) end++;
    return new TextDecoder().decode(this.bytes.subarray(offset, end));
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function inspectElf(r: Reader): BinaryFormat {
  const bits = r.bytes[4] === 2 ? 64 : r.bytes[4] === 1 ? 32 : 0;
  if (!bits) throw new Error(`ELF with unknown class ${r.bytes[4]}`);
  if (r.bytes[5] !== 1) throw new Error("big-endian ELF: no target of ours is big-endian");
  const type = r.u16(16);
  const machine = r.u16(18);
  const word = (offset: number) => (bits === 64 ? r.u64(offset) : r.u32(offset));
  const phoff = bits === 64 ? r.u64(32) : r.u32(28);
  const phentsize = r.u16(bits === 64 ? 54 : 42);
  const phnum = r.u16(bits === 64 ? 56 : 44);

  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let interpreter: string | undefined;
  let dynamic: { offset: number; filesz: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    const pType = r.u32(ph);
    const offset = bits === 64 ? r.u64(ph + 8) : r.u32(ph + 4);
    const vaddr = bits === 64 ? r.u64(ph + 16) : r.u32(ph + 8);
    const filesz = bits === 64 ? r.u64(ph + 32) : r.u32(ph + 16);
    if (pType === 1) loads.push({ vaddr, offset, filesz });
    else if (pType === 2) dynamic = { offset, filesz };
    else if (pType === 3) interpreter = r.cstring(offset, filesz);
  }

  const needed: string[] = [];
  if (dynamic) {
    const entry = bits === 64 ? 16 : 8;
    const neededAt: number[] = [];
    let strtab: number | undefined;
    for (let at = dynamic.offset; at + entry <= dynamic.offset + dynamic.filesz; at += entry) {
      const tag = word(at);
      const value = word(at + entry / 2);
      if (tag === 0) break;
      if (tag === 1) neededAt.push(value);
      else if (tag === 5) strtab = value;
    }
    if (neededAt.length && strtab !== undefined) {
      const seg = loads.find((l) => strtab! >= l.vaddr && strtab! < l.vaddr + l.filesz);
      if (!seg) throw new Error(`ELF DT_STRTAB ${hex(strtab)} lies in no loaded segment`);
      const base = strtab - seg.vaddr + seg.offset;
      for (const at of neededAt) needed.push(r.cstring(base + at));
    }
  }

  let libc: BinaryFormat["libc"];
  if (interpreter?.includes("ld-musl")) libc = "musl";
  else if (interpreter?.includes("ld-linux")) libc = "glibc";
  else if (needed.includes("libc.so.6")) libc = "glibc";
  else if (needed.some((n) => n === "libc.so" || n.startsWith("libc.musl-"))) libc = "musl";

  return {
    format: "elf",
    arch: ELF_MACHINES[machine] ?? `machine ${hex(machine)}`,
    bits,
    kind: interpreter !== undefined || type === 2 ? "executable" : "shared-library",
    ...(interpreter !== undefined ? { interpreter } : {}),
    needed,
    ...(libc ? { libc } : {}),
  };
}

function inspectMachO(r: Reader): BinaryFormat {
  const bits = r.u32(0) === 0xfeedfacf ? 64 : 32;
  const cpu = r.u32(4);
  const fileType = r.u32(12);
  const ncmds = r.u32(16);
  let codeSignature: { offset: number; size: number } | undefined;
  let at = bits === 64 ? 32 : 28;
  for (let i = 0; i < ncmds; i++) {
    const cmd = r.u32(at);
    const size = r.u32(at + 4);
    if (cmd === 0x1d) codeSignature = { offset: r.u32(at + 8), size: r.u32(at + 12) }; // LC_CODE_SIGNATURE
    if (size < 8) throw new Error(`Mach-O load command ${i} has size ${size}`);
    at += size;
  }
  const problem = codeSignature ? signatureProblem(r, codeSignature.offset, codeSignature.size) : undefined;
  return {
    format: "macho",
    arch: MACHO_CPUS[cpu] ?? `cputype ${hex(cpu)}`,
    bits,
    kind: fileType === 2 ? "executable" : "shared-library",
    signed: codeSignature !== undefined,
    signature: !codeSignature ? "none" : problem ? "invalid" : "valid",
    ...(problem ? { signatureProblem: problem } : {}),
  };
}

/**
 * Why the embedded signature (a SuperBlob at `offset`) does not match the file, or undefined when
 * it does: each CodeDirectory's code slots must be the hashes of the file's pages up to its
 * codeLimit, and codeLimit must be where the signature starts (nothing unsigned before it).
 * The SuperBlob and CodeDirectory fields are big-endian.
 */
function signatureProblem(r: Reader, offset: number, size: number): string | undefined {
  if (offset + size > r.bytes.length) return `the signature (${size} bytes at ${offset}) runs past the end of the file`;
  const be = new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
  if (be.getUint32(offset) !== 0xfade0cc0) return "LC_CODE_SIGNATURE does not point at a signature SuperBlob";
  const count = be.getUint32(offset + 8);
  let directories = 0;
  for (let i = 0; i < count; i++) {
    const type = be.getUint32(offset + 12 + i * 8);
    const blob = offset + be.getUint32(offset + 16 + i * 8);
    if (be.getUint32(blob) !== 0xfade0c02 || (type !== 0 && type < 0x1000)) continue; // not a CodeDirectory
    directories++;
    const hashOffset = be.getUint32(blob + 16);
    const codeSlots = be.getUint32(blob + 28);
    const version = be.getUint32(blob + 8);
    let codeLimit = be.getUint32(blob + 32);
    if (version >= 0x20300 && be.getUint32(blob + 44) === 0 && be.getBigUint64(blob + 56) !== 0n) {
      codeLimit = Number(be.getBigUint64(blob + 56)); // codeLimit64
    }
    const hashSize = r.bytes[blob + 36];
    const hashType = r.bytes[blob + 37];
    const pageSize = 2 ** r.bytes[blob + 39];
    const algorithm = hashType === 2 ? "sha256" : hashType === 1 ? "sha1" : undefined;
    if (!algorithm) return `CodeDirectory hash type ${hashType} is not SHA-1 or SHA-256`;
    if (codeLimit !== offset) {
      return `the signature covers the first ${codeLimit} bytes, but the signed code runs to ${offset}: ${offset - codeLimit} bytes are outside it`;
    }
    if (codeSlots !== Math.ceil(codeLimit / pageSize)) return `${codeSlots} code slots for ${codeLimit} bytes of ${pageSize}-byte pages`;
    let bad = 0;
    let firstBad = -1;
    for (let slot = 0; slot < codeSlots; slot++) {
      const page = r.bytes.subarray(slot * pageSize, Math.min((slot + 1) * pageSize, codeLimit));
      const want = r.bytes.subarray(blob + hashOffset + slot * hashSize, blob + hashOffset + (slot + 1) * hashSize);
      const got = createHash(algorithm).update(page).digest().subarray(0, hashSize);
      if (!got.equals(want)) {
        bad++;
        if (firstBad < 0) firstBad = slot;
      }
    }
    if (bad) return `${bad} of ${codeSlots} page hashes do not match (first: page ${firstBad})`;
  }
  return directories ? undefined : "the signature has no CodeDirectory";
}

function inspectPe(r: Reader): BinaryFormat {
  const pe = r.u32(0x3c);
  if (r.u32(pe) !== 0x00004550) throw new Error(`MZ header without a PE signature at ${hex(pe)}`);
  const machine = r.u16(pe + 4);
  const characteristics = r.u16(pe + 22);
  const optional = pe + 24;
  const magic = r.u16(optional);
  const subsystem = r.u16(optional + 68);
  return {
    format: "pe",
    arch: PE_MACHINES[machine] ?? `machine ${hex(machine)}`,
    bits: magic === 0x20b ? 64 : 32,
    kind: characteristics & 0x2000 ? "shared-library" : "executable",
    subsystem: subsystem === 3 ? "console" : subsystem === 2 ? "gui" : subsystem,
  };
}

/** The format of a binary, from its bytes; throws on anything that is not ELF, Mach-O or PE. */
export function inspectBinary(bytes: Uint8Array): BinaryFormat {
  const r = new Reader(bytes);
  if (bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    return inspectElf(r);
  }
  if (bytes.length >= 4 && (r.u32(0) === 0xfeedfacf || r.u32(0) === 0xfeedface)) return inspectMachO(r);
  if (bytes.length >= 4 && r.u32(0) === 0xbebafeca) {
    throw new Error("a universal (fat) Mach-O: no target of ours is one");
  }
  if (bytes.length >= 2 && bytes[0] === 0x4d && bytes[1] === 0x5a) return inspectPe(r);
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new Error(`not an ELF, Mach-O or PE file (starts with ${head || "nothing"})`);
}

/** One line, as `file(1)` would put it: "ELF 64-bit arm64 executable, glibc (/lib/ld-linux-aarch64.so.1)". */
export function describeFormat(f: BinaryFormat): string {
  const name = { elf: "ELF", macho: "Mach-O", pe: "PE" }[f.format];
  const extra = [
    f.libc ? `${f.libc}${f.interpreter ? ` (${f.interpreter})` : ""}` : f.interpreter,
    f.signature === undefined ? undefined : f.signature === "none" ? "unsigned" : `${f.signature} signature`,
    typeof f.subsystem === "string" ? `${f.subsystem} subsystem` : f.subsystem === undefined ? undefined : `subsystem ${f.subsystem}`,
  ].filter(Boolean);
  return `${name} ${f.bits}-bit ${f.arch} ${f.kind}${extra.length ? `, ${extra.join(", ")}` : ""}`;
}

/** What the addon (`shared-library`) or the executable of a target must look like. */
export function expectedFormat(target: Target, kind: Kind): Partial<BinaryFormat> {
  const format = target.os === "linux" ? "elf" : target.os === "darwin" ? "macho" : "pe";
  return {
    format,
    arch: target.arch,
    bits: 64,
    kind,
    ...(target.libc ? { libc: target.libc } : {}),
    ...(format === "macho" && kind === "executable" ? { signature: "valid" as const } : {}),
    ...(format === "pe" && kind === "executable" ? { subsystem: "console" as const } : {}),
  };
}

/** Every way `bytes` differs from what `target` needs for `kind`; empty when it fits. */
export function formatProblems(bytes: Uint8Array, target: Target, kind: Kind): string[] {
  let found: BinaryFormat;
  try {
    found = inspectBinary(bytes);
  } catch (err) {
    return [(err as Error).message];
  }
  const want = expectedFormat(target, kind);
  const problems: string[] = [];
  for (const [field, value] of Object.entries(want) as [keyof BinaryFormat, unknown][]) {
    if (found[field] !== value) {
      problems.push(`${field} is ${JSON.stringify(found[field] ?? null)}, ${target.name} needs ${JSON.stringify(value)}`);
    }
  }
  if (problems.length) problems.push(`found: ${describeFormat(found)}`);
  return problems;
}
