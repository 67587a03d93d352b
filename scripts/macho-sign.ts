/**
 * Re-signs a Mach-O executable ad hoc, for when Bun leaves it with a signature that no longer
 * matches its bytes.
 *
 * Why: Bun 1.4.5 writes the app into a copy of its darwin runtime. For darwin-arm64 it then signs
 * the result ad hoc, correctly. For darwin-x64 it does not: the runtime's original signature
 * (Oven's, with the hardened-runtime flag) stays, covering the first 97 MB only — the Mach-O
 * header page it changed no longer matches and the 7 MB app lies outside the signed range
 * (scripts/binary-format.ts finds 75 bad page hashes and the gap). A hardened binary with bad
 * pages is killed by macOS when it starts, so the build replaces that signature.
 *
 * What is written: the signature Bun writes for arm64 (and Go's linker for every Mach-O) — one
 * CodeDirectory, version 0x20400, flags adhoc|linker-signed, SHA-256 over 4096-byte pages from
 * the start of the file to the signature, the __TEXT segment as the executable segment of a main
 * binary. No certificate, no hardened runtime, no entitlements: ad hoc is what macOS requires to
 * start a program on arm64, and Bun's own arm64 output carries nothing more. It is not
 * notarization: a copy downloaded by a browser still meets Gatekeeper (README says so).
 *
 * The file's layout stays the same: the signature stays where LC_CODE_SIGNATURE puts it (the end of
 * __LINKEDIT, the end of the file), only its size changes, and LC_CODE_SIGNATURE's size and
 * __LINKEDIT's file and memory sizes follow it.
 */
import { createHash } from "node:crypto";

const PAGE = 4096;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;

/** The ad-hoc signed copy of a 64-bit little-endian Mach-O executable that has an LC_CODE_SIGNATURE. */
export function adHocSign(input: Uint8Array, identifier: string): Uint8Array {
  const le = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (le.getUint32(0, true) !== 0xfeedfacf) throw new Error("not a 64-bit little-endian Mach-O file");
  const ncmds = le.getUint32(16, true);
  let signatureCmd = -1;
  let linkedit = -1;
  let text: { fileoff: bigint; filesize: bigint } | undefined;
  for (let i = 0, at = 32; i < ncmds; i++) {
    const cmd = le.getUint32(at, true);
    if (cmd === LC_CODE_SIGNATURE) signatureCmd = at;
    if (cmd === LC_SEGMENT_64) {
      const name = new TextDecoder().decode(input.subarray(at + 8, at + 24)).replace(/\0+$/, "");
      if (name === "__LINKEDIT") linkedit = at;
      if (name === "__TEXT") text = { fileoff: le.getBigUint64(at + 40, true), filesize: le.getBigUint64(at + 48, true) };
    }
    at += le.getUint32(at + 4, true);
  }
  if (signatureCmd < 0) throw new Error("no LC_CODE_SIGNATURE to replace");
  if (linkedit < 0 || !text) throw new Error("no __LINKEDIT or __TEXT segment");

  const codeLimit = le.getUint32(signatureCmd + 8, true); // the signature's offset: everything before it is signed
  const linkeditFileoff = Number(le.getBigUint64(linkedit + 40, true));
  const oldEnd = codeLimit + le.getUint32(signatureCmd + 12, true);
  if (oldEnd !== input.length || linkeditFileoff + Number(le.getBigUint64(linkedit + 48, true)) !== input.length) {
    throw new Error("the signature is not at the end of __LINKEDIT and of the file");
  }

  const slots = Math.ceil(codeLimit / PAGE);
  const id = new TextEncoder().encode(`${identifier}\0`);
  const cdHeader = 88; // CodeDirectory up to and including version 0x20400's exec-segment fields
  const hashOffset = cdHeader + id.length;
  const cdLength = hashOffset + slots * 32;
  const signatureLength = 12 + 8 + cdLength; // SuperBlob header, one index entry, the CodeDirectory
  const out = new Uint8Array(codeLimit + signatureLength);
  out.set(input.subarray(0, codeLimit));

  // Load commands first: page 0 is hashed with them as they will be.
  const o = new DataView(out.buffer);
  o.setUint32(signatureCmd + 12, signatureLength, true);
  const linkeditFilesize = out.length - linkeditFileoff;
  o.setBigUint64(linkedit + 48, BigInt(linkeditFilesize), true);
  o.setBigUint64(linkedit + 32, BigInt(Math.ceil(linkeditFilesize / PAGE) * PAGE), true); // vmsize

  // SuperBlob and CodeDirectory: big-endian.
  let at = codeLimit;
  const u32 = (v: number) => (o.setUint32(at, v), (at += 4));
  const u64 = (v: bigint) => (o.setBigUint64(at, v), (at += 8));
  u32(0xfade0cc0); // CSMAGIC_EMBEDDED_SIGNATURE
  u32(signatureLength);
  u32(1); // one blob
  u32(0); // CSSLOT_CODEDIRECTORY
  u32(20); // at offset 20 of the SuperBlob
  const cd = at;
  u32(0xfade0c02); // CSMAGIC_CODEDIRECTORY
  u32(cdLength);
  u32(0x20400); // version
  u32(0x20002); // CS_ADHOC | CS_LINKER_SIGNED
  u32(hashOffset);
  u32(cdHeader); // identOffset
  u32(0); // nSpecialSlots
  u32(slots); // nCodeSlots
  u32(codeLimit);
  out[at++] = 32; // hashSize
  out[at++] = 2; // CS_HASHTYPE_SHA256
  out[at++] = 0; // platform
  out[at++] = 12; // log2(page size)
  u32(0); // spare2
  u32(0); // scatterOffset
  u32(0); // teamOffset
  u32(0); // spare3
  u64(0n); // codeLimit64 (codeLimit fits in 32 bits)
  u64(text.fileoff); // execSegBase
  u64(text.filesize); // execSegLimit
  u64(1n); // CS_EXECSEG_MAIN_BINARY
  out.set(id, cd + cdHeader);
  for (let slot = 0; slot < slots; slot++) {
    const page = out.subarray(slot * PAGE, Math.min((slot + 1) * PAGE, codeLimit));
    out.set(createHash("sha256").update(page).digest(), cd + hashOffset + slot * 32);
  }
  return out;
}
