/**
 * The LMDB map: how much address space the store's memory map takes when it opens
 * (`--map-size`, env ARTIFACTD_MAP_SIZE; default 64 GiB). Address space, not memory: pages are
 * read in as they are used and the file grows as data arrives.
 *
 * Measured with lmdb 3.5.6: the map is where a store starts, not a cap. A write that reaches its
 * end makes lmdb-js's LMDB remap at about twice what is needed (a 64 MiB map took 150 MiB of
 * artifacts with no MDB_MAP_FULL; the old map is left mapped for readers), and a data file larger
 * than the map asked for is mapped at the file's size (a 650 MiB store reopened with 64 MiB reads
 * back whole).
 *
 * Where the address space is limited (`ulimit -v`, RLIMIT_AS; qemu-user on a machine with less
 * RAM + swap than the map), LMDB's mmap fails and lmdb-js crashes the process (SIGSEGV) instead of
 * reporting it — at open, and also when the store outgrows the map and the larger map does not
 * fit (its return code is not checked). `addressSpaceProblem` refuses the first beforehand, in one
 * line, from the soft limit in /proc/self/limits and VmSize in /proc/self/status (Linux);
 * elsewhere (no /proc) nothing is checked. Under a limit, give a map the store will not outgrow.
 */
import { readFileSync } from 'node:fs';

export const MIB = 1024 ** 2;
export const GIB = 1024 ** 3;
export const DEFAULT_MAP_SIZE = 64 * GIB;
/** The smallest `--map-size` accepted: a floor against a slip such as `--map-size 64` (bytes). */
export const MIN_MAP_SIZE = 64 * MIB;
/**
 * Address space kept free beside the map, for what the process maps after opening the store (the
 * query thread, the JIT's and the heaps' growth); not for lmdb-js's growth of the map, which
 * needs the new map's size on top of the old one. Bun reserves its own address
 * space at start, sized to the limit it finds (measured with Bun 1.4.5 on Linux x64: VmSize
 * 1.4 GiB under a 2 GiB limit, 3.2 GiB under 6 GiB, 6.1 GiB from 16 GiB up or unlimited), so the
 * check counts what the process already uses (VmSize) instead of assuming a fixed amount.
 */
export const SPARE = 1 * GIB;

/** `64 GiB`, `512 MiB`, `1.5 GiB`: for messages. */
export function formatSize(bytes: number): string {
  if (bytes >= GIB) return `${+(bytes / GIB).toFixed(1)} GiB`;
  return `${+(bytes / MIB).toFixed(1)} MiB`;
}

/** The soft RLIMIT_AS in bytes from /proc/self/limits' text; null when unlimited or not found. */
export function parseAddressSpaceLimit(limits: string): number | null {
  const line = /^Max address space\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(limits);
  if (!line || line[1] === 'unlimited') return null;
  const bytes = Number(line[1]);
  return Number.isFinite(bytes) ? bytes : null;
}

/** VmSize in bytes from /proc/self/status' text (the address space in use); 0 when not found. */
export function parseAddressSpaceUse(status: string): number {
  const line = /^VmSize:\s+(\d+)\s*kB/m.exec(status);
  return line ? Number(line[1]) * 1024 : 0;
}

export interface AddressSpace {
  /** The soft RLIMIT_AS in bytes. */
  limit: number;
  /** What the process has mapped already (VmSize), in bytes. */
  used: number;
}

const readProc = (name: string) => readFileSync(`/proc/self/${name}`, 'utf8');

/** This process's address-space limit and use (Linux, from /proc); null when unlimited or unknown (no /proc). */
export function currentAddressSpace(read: (name: 'limits' | 'status') => string = readProc): AddressSpace | null {
  try {
    const limit = parseAddressSpaceLimit(read('limits'));
    if (limit === null) return null;
    return { limit, used: parseAddressSpaceUse(read('status')) };
  } catch {
    return null;
  }
}

const flagSize = (bytes: number) => formatSize(bytes).replace(' ', '');

/**
 * Why a map of `mapSize` bytes cannot be opened in `space` (null: no limit), in one line that
 * names the limit, the map and the fix; null when it fits with SPARE to spare.
 */
export function addressSpaceProblem(mapSize: number, space: AddressSpace | null): string | null {
  if (space === null) return null;
  const room = space.limit - space.used - SPARE;
  if (room >= mapSize) return null;
  const fitting = largestFittingMap(room);
  const fix =
    fitting === null
      ? `raise the limit by at least ${formatSize(MIN_MAP_SIZE - room)} for the smallest map (--map-size ${flagSize(MIN_MAP_SIZE)})`
      : `give a smaller map that fits, e.g. --map-size ${flagSize(fitting)} (env ARTIFACTD_MAP_SIZE)`;
  return (
    `the address space is limited to ${formatSize(space.limit)} (ulimit -v ${Math.floor(space.limit / 1024)}), of which the runtime uses ${formatSize(space.used)}: ` +
    `no room for the ${formatSize(mapSize)} LMDB map and ${formatSize(SPARE)} to spare; run with ulimit -v unlimited, or ${fix}`
  );
}

/** The largest map (a whole number of GiB, else of 64 MiB) no larger than `room`; null when none is. */
export function largestFittingMap(room: number): number | null {
  if (room < MIN_MAP_SIZE) return null;
  return room >= GIB ? Math.floor(room / GIB) * GIB : Math.floor(room / MIN_MAP_SIZE) * MIN_MAP_SIZE;
}
