/**
 * Gets a file out of an npm package at exactly the version and bytes package-lock.json pins —
 * for packages npm did not install here because they are for another platform (lmdb's addons and
 * Bun's runtimes for the other targets).
 *
 * Decided here:
 *   - package-lock.json is the authority: the version and the `integrity` (SRI, sha512) come from
 *     its `node_modules/<name>` entry. A package missing from it, or without a sha512, is refused:
 *     we never build from bytes nobody pinned.
 *   - npm fetches (`npm pack <name>@<version>`), so the registry, its mirrors, proxies and
 *     credentials are whatever the user's npm is configured with; nothing here names a host.
 *   - We check the tarball's sha512 ourselves against the lockfile on every use, cached or fresh
 *     — npm's own check is against the registry's metadata, not our lockfile. A cached tarball that
 *     fails is fetched again once; a fetched one that fails stops the build.
 *   - Cache: node_modules/.cache/artifactd/, one tarball per name@version and integrity (so a
 *     changed lockfile never reuses an old file). The extracted file is written beside it (or
 *     where the caller says), rewritten from the verified tarball each time: the build needs it on
 *     disk (Bun embeds the addon from a path and takes the runtime as `executablePath`).
 *   - Extraction is a small tar reader (gzip, ustar, pax and GNU long names), not the `tar`
 *     program: one file comes out, into memory, on every OS.
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface LockedPackage {
  name: string;
  version: string;
  /** The lockfile's SRI string, e.g. "sha512-…". */
  integrity: string;
}

/** The lockfile's pin for `name`, or an error saying why it cannot be used. */
export function lockedPackage(lockfile: string, name: string): LockedPackage {
  let lock: { packages?: Record<string, { version?: string; integrity?: string }> };
  try {
    lock = JSON.parse(readFileSync(lockfile, "utf8"));
  } catch (err) {
    throw new Error(`cannot read ${lockfile}: ${(err as Error).message}`);
  }
  const entry = lock.packages?.[`node_modules/${name}`];
  if (!entry) throw new Error(`${name} is not in ${lockfile}; refusing to fetch a package the lockfile does not pin`);
  if (!entry.version) throw new Error(`${name} has no version in ${lockfile}`);
  if (!entry.integrity || !/(^|\s)sha512-/.test(entry.integrity)) {
    throw new Error(`${name}@${entry.version} has no sha512 integrity in ${lockfile}; refusing to use unverified bytes`);
  }
  return { name, version: entry.version, integrity: entry.integrity };
}

/** Throws unless `bytes` hash to one of the sha512 values of the SRI string `integrity`. */
export function verifyIntegrity(bytes: Uint8Array, integrity: string, what: string): void {
  const expected = integrity
    .split(/\s+/)
    .filter((h) => h.startsWith("sha512-"))
    .map((h) => h.slice("sha512-".length).split("?")[0]);
  if (!expected.length) throw new Error(`${what}: no sha512 in integrity ${JSON.stringify(integrity)}`);
  const actual = createHash("sha512").update(bytes).digest("base64");
  if (!expected.includes(actual)) {
    throw new Error(`${what}: sha512 mismatch — the lockfile pins sha512-${expected[0]}, the tarball is sha512-${actual}`);
  }
}

/** The bytes of `path` (relative to the package root, e.g. "node.napi.node") in an npm tarball. */
export function extractFromTarball(tgz: Uint8Array, path: string): Uint8Array {
  const tar = Bun.gunzipSync(tgz as Uint8Array<ArrayBuffer>); // about twice as fast as node:zlib here (0.7 s for a 107 MB runtime)
  const text = (from: number, length: number) => {
    const field = tar.subarray(from, from + length);
    const nul = field.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? field : field.subarray(0, nul));
  };
  let longName: string | undefined;
  for (let header = 0; header + 512 <= tar.length; ) {
    if (tar.subarray(header, header + 512).every((b) => b === 0)) break; // end of archive
    const size = parseInt(text(header + 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(tar[header + 156] || 0x30);
    const prefix = text(header + 345, 155); // ustar: the name's leading folders
    const name = longName ?? (prefix ? `${prefix}/` : "") + text(header, 100);
    const dataAt = header + 512;
    if (!Number.isSafeInteger(size) || size < 0 || dataAt + size > tar.length) {
      throw new Error("corrupt tarball: an entry runs past the end");
    }
    const data = tar.subarray(dataAt, dataAt + size);
    header = dataAt + Math.ceil(size / 512) * 512;

    if (type === "x") {
      // pax extended header: "<len> path=<name>\n" records apply to the next entry
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(data));
      if (m) longName = m[1];
      continue;
    }
    if (type === "L") {
      longName = new TextDecoder().decode(data).replace(/\0+$/, ""); // GNU long name
      continue;
    }
    if (type === "g") continue;
    longName = undefined;
    // npm tarballs put everything under one top folder, "package/" by convention
    const inPackage = name.replace(/^[^/]+\//, "");
    if (type === "0" && inPackage === path) return new Uint8Array(data);
  }
  throw new Error(`${path} is not in the tarball`);
}

export type Fetcher = (pkg: LockedPackage, destination: string) => string;

/** Fetches `name@version` with `npm pack` into `destination`; returns the tarball's path. */
export const npmPack: Fetcher = (pkg, destination) => {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const proc = Bun.spawnSync(
    [npm, "pack", `${pkg.name}@${pkg.version}`, "--json", "--ignore-scripts", "--pack-destination", destination],
    { stdout: "pipe", stderr: "pipe", timeout: 300_000 },
  );
  if (proc.exitCode !== 0) {
    throw new Error(`npm pack ${pkg.name}@${pkg.version} failed (exit ${proc.exitCode ?? proc.signalCode}): ${proc.stderr.toString().trim().slice(-800)}`);
  }
  const out = JSON.parse(proc.stdout.toString()) as { filename: string }[];
  return join(destination, out[0].filename);
};

export function defaultCacheDir(projectRoot: string): string {
  return join(projectRoot, "node_modules", ".cache", "artifactd");
}

export interface VerifiedFile {
  pkg: LockedPackage;
  /** Where the extracted file is, in the cache. */
  path: string;
  bytes: Uint8Array;
  /** sha256 of the extracted file, hex. */
  sha256: string;
  /** true when the tarball came from the cache. */
  cached: boolean;
}

/**
 * `file` out of the lockfile's `name`, verified: from the cache when the cached tarball still
 * matches the lockfile, otherwise fetched (once) and verified.
 */
export function lockedFile(options: {
  lockfile: string;
  name: string;
  file: string;
  cacheDir: string;
  fetch?: Fetcher;
  /** Directory to write the extracted file to; default: beside the tarball in the cache. */
  writeTo?: string;
}): VerifiedFile {
  const pkg = lockedPackage(options.lockfile, options.name);
  const key = `${pkg.name.replace("/", "+")}@${pkg.version}-${Buffer.from(pkg.integrity.replace(/^sha512-/, ""), "base64").toString("hex").slice(0, 16)}`;
  const tarball = join(options.cacheDir, `${key}.tgz`);
  const what = `${pkg.name}@${pkg.version}`;

  let tgz: Uint8Array | undefined;
  let cached = false;
  if (existsSync(tarball)) {
    const bytes = readFileSync(tarball);
    try {
      verifyIntegrity(bytes, pkg.integrity, `${what} (cached ${tarball})`);
      tgz = bytes;
      cached = true;
    } catch {
      rmSync(tarball, { force: true }); // corrupt or stale: fetch again
    }
  }
  if (!tgz) {
    const incoming = join(options.cacheDir, `incoming-${process.pid}`);
    mkdirSync(incoming, { recursive: true });
    try {
      const fetched = (options.fetch ?? npmPack)(pkg, incoming);
      const bytes = readFileSync(fetched);
      verifyIntegrity(bytes, pkg.integrity, what);
      renameSync(fetched, tarball);
      tgz = bytes;
    } finally {
      rmSync(incoming, { recursive: true, force: true });
    }
  }

  const bytes = extractFromTarball(tgz, options.file);
  const path = join(options.writeTo ?? join(options.cacheDir, key), options.file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  chmodSync(path, 0o755);
  return { pkg, path, bytes, sha256: createHash("sha256").update(bytes).digest("hex"), cached };
}
