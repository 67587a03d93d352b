/**
 * Smallest well-formed headers of the three binary formats, for testing scripts/binary-format.ts
 * and scripts/macho-sign.ts without building anything: each one carries exactly the fields those
 * read, set by the test.
 */

/** ELF64 little-endian: one PT_LOAD over the whole file, optional PT_INTERP and PT_DYNAMIC (DT_NEEDED…). */
export function elf(options: { machine: number; type?: number; interpreter?: string; needed?: string[] }): Uint8Array {
  const phnum = 1 + (options.interpreter ? 1 : 0) + (options.needed ? 1 : 0);
  const interpAt = 64 + phnum * 56;
  const interp = options.interpreter ? new TextEncoder().encode(`${options.interpreter}\0`) : new Uint8Array();
  const strtabAt = interpAt + interp.length;
  const strings = (options.needed ?? []).map((n) => new TextEncoder().encode(`${n}\0`));
  const strtabSize = strings.reduce((n, s) => n + s.length, 1);
  const dynAt = Math.ceil((strtabAt + strtabSize) / 8) * 8;
  const dynCount = options.needed ? options.needed.length + 2 : 0;
  const size = dynAt + dynCount * 16;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, options.type ?? (options.interpreter ? 2 : 3), true);
  v.setUint16(18, options.machine, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, phnum, true);
  let ph = 64;
  const phdr = (type: number, offset: number, filesz: number) => {
    v.setUint32(ph, type, true);
    v.setBigUint64(ph + 8, BigInt(offset), true);
    v.setBigUint64(ph + 16, BigInt(offset), true); // vaddr = offset
    v.setBigUint64(ph + 32, BigInt(filesz), true);
    ph += 56;
  };
  phdr(1, 0, size);
  if (options.interpreter) {
    phdr(3, interpAt, interp.length);
    b.set(interp, interpAt);
  }
  if (options.needed) {
    phdr(2, dynAt, dynCount * 16);
    let str = strtabAt + 1;
    let dyn = dynAt;
    for (const s of strings) {
      b.set(s, str);
      v.setBigUint64(dyn, 1n, true); // DT_NEEDED
      v.setBigUint64(dyn + 8, BigInt(str - strtabAt), true);
      dyn += 16;
      str += s.length;
    }
    v.setBigUint64(dyn, 5n, true); // DT_STRTAB
    v.setBigUint64(dyn + 8, BigInt(strtabAt), true);
  }
  return b;
}

export const CPU_X64 = 0x01000007;
export const CPU_ARM64 = 0x0100000c;

/**
 * A 64-bit Mach-O of `pages` 4096-byte pages: __TEXT over the first page, __LINKEDIT from the last
 * page to the end of the file, and — with `signature` — an LC_CODE_SIGNATURE pointing at those
 * bytes, placed after the pages.
 */
export function macho(options: { cpu: number; fileType?: number; pages?: number; signature?: Uint8Array }): Uint8Array {
  const pages = options.pages ?? 3;
  const sig = options.signature;
  const ncmds = sig ? 3 : 2;
  const size = pages * 4096 + (sig?.length ?? 0);
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0xfeedfacf, true);
  v.setUint32(4, options.cpu, true);
  v.setUint32(12, options.fileType ?? 2, true);
  v.setUint32(16, ncmds, true);
  v.setUint32(20, 72 * 2 + (sig ? 16 : 0), true);
  let at = 32;
  const segment = (name: string, fileoff: number, filesize: number) => {
    v.setUint32(at, 0x19, true);
    v.setUint32(at + 4, 72, true);
    b.set(new TextEncoder().encode(name), at + 8);
    v.setBigUint64(at + 32, BigInt(Math.ceil(filesize / 4096) * 4096), true);
    v.setBigUint64(at + 40, BigInt(fileoff), true);
    v.setBigUint64(at + 48, BigInt(filesize), true);
    at += 72;
  };
  segment("__TEXT", 0, 4096);
  segment("__LINKEDIT", (pages - 1) * 4096, size - (pages - 1) * 4096);
  if (sig) {
    v.setUint32(at, 0x1d, true);
    v.setUint32(at + 4, 16, true);
    v.setUint32(at + 8, pages * 4096, true);
    v.setUint32(at + 12, sig.length, true);
    b.set(sig, pages * 4096);
  }
  for (let i = 4096; i < pages * 4096; i++) b[i] = (i * 7) & 0xff; // some content to hash
  return b;
}

/** A PE file: MZ stub, PE header with `machine`, optional header (PE32+) with `subsystem`. */
export function pe(options: { machine: number; dll?: boolean; subsystem?: number }): Uint8Array {
  const b = new Uint8Array(0x40 + 24 + 240);
  const v = new DataView(b.buffer);
  b.set([0x4d, 0x5a]);
  v.setUint32(0x3c, 0x40, true);
  v.setUint32(0x40, 0x00004550, true);
  v.setUint16(0x44, options.machine, true);
  v.setUint16(0x40 + 20, 240, true);
  v.setUint16(0x40 + 22, 0x0022 | (options.dll ? 0x2000 : 0), true);
  v.setUint16(0x40 + 24, 0x20b, true);
  v.setUint16(0x40 + 24 + 68, options.subsystem ?? 3, true);
  return b;
}
