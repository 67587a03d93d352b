/**
 * scripts/locked-package.ts: a package file is used only when its tarball hashes to the
 * lockfile's sha512 — fetched or cached, a tampered tarball is refused and never cached, and a
 * package the lockfile does not pin is never fetched. Tarballs are made here with `tar`; the
 * fetcher is a stand-in for `npm pack` (the real one runs in CI's `npm run release`).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extractFromTarball, lockedFile, lockedPackage, verifyIntegrity, type Fetcher } from "../../scripts/locked-package.ts";

const work = mkdtempSync(join(tmpdir(), "artifactd-locked-package-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function tarball(name: string, files: Record<string, string | Uint8Array>, format = "gnu"): string {
  const dir = mkdtempSync(join(work, "src-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, "package", path, ".."), { recursive: true });
    writeFileSync(join(dir, "package", path), content);
  }
  const out = join(work, `${name}.tgz`);
  const proc = Bun.spawnSync(["tar", `--format=${format}`, "-czf", out, "-C", dir, "package"]);
  if (proc.exitCode !== 0) throw new Error(proc.stderr.toString());
  return out;
}

const sri = (bytes: Uint8Array) => `sha512-${createHash("sha512").update(bytes).digest("base64")}`;

function lockfile(entries: Record<string, { version?: string; integrity?: string }>): string {
  const path = join(mkdtempSync(join(work, "lock-")), "package-lock.json");
  const packages = Object.fromEntries(Object.entries(entries).map(([name, e]) => [`node_modules/${name}`, e]));
  writeFileSync(path, JSON.stringify({ lockfileVersion: 3, packages: { "": {}, ...packages } }));
  return path;
}

/** A stand-in for npm pack that copies `source` and counts its calls. */
function fetcher(source: string): Fetcher & { calls: number } {
  const f = ((_pkg, destination) => {
    f.calls++;
    const to = join(destination, "pkg.tgz");
    copyFileSync(source, to);
    return to;
  }) as Fetcher & { calls: number };
  f.calls = 0;
  return f;
}

describe("extractFromTarball", () => {
  const addon = new Uint8Array(5000).map((_, i) => i % 251);
  const tgz = readFileSync(tarball("plain", { "node.napi.node": addon, "package.json": "{}", "bin/bun": "runtime" }));

  test("one file's bytes, by its path inside the package", () => {
    expect(Buffer.from(extractFromTarball(tgz, "node.napi.node")).equals(Buffer.from(addon))).toBe(true);
    expect(new TextDecoder().decode(extractFromTarball(tgz, "bin/bun"))).toBe("runtime");
  });

  test("a missing file is an error", () => {
    expect(() => extractFromTarball(tgz, "node.napi.glibc.node")).toThrow("node.napi.glibc.node is not in the tarball");
  });

  test("names longer than 100 bytes, in GNU and pax tarballs", () => {
    const long = `${"d".repeat(60)}/${"e".repeat(60)}/addon.node`;
    for (const format of ["gnu", "pax"]) {
      const t = readFileSync(tarball(`long-${format}`, { [long]: "long" }, format));
      expect(new TextDecoder().decode(extractFromTarball(t, long))).toBe("long");
    }
  });

  test("a truncated archive is an error", () => {
    const tar = Bun.gunzipSync(tgz);
    expect(() => extractFromTarball(Bun.gzipSync(tar.subarray(0, 1500)), "node.napi.node")).toThrow(/runs past the end/);
  });
});

describe("verifyIntegrity", () => {
  const bytes = new TextEncoder().encode("tarball");
  test("accepts the lockfile's sha512, one of several, and refuses others", () => {
    verifyIntegrity(bytes, sri(bytes), "x");
    verifyIntegrity(bytes, `sha1-AAAA ${sri(new Uint8Array([1]))} ${sri(bytes)}`, "x");
    expect(() => verifyIntegrity(bytes, sri(new Uint8Array([1])), "pkg@1")).toThrow(/^pkg@1: sha512 mismatch/);
    expect(() => verifyIntegrity(bytes, "sha1-AAAA", "pkg@1")).toThrow("pkg@1: no sha512 in integrity");
  });
});

describe("lockedPackage", () => {
  test("reads the pin, refuses what the lockfile does not pin or hash", () => {
    const lock = lockfile({ "@x/a": { version: "1.2.3", integrity: "sha512-AAAA" }, "@x/b": { version: "1.0.0" } });
    expect(lockedPackage(lock, "@x/a")).toEqual({ name: "@x/a", version: "1.2.3", integrity: "sha512-AAAA" });
    expect(() => lockedPackage(lock, "@x/c")).toThrow(/@x\/c is not in .*refusing to fetch a package the lockfile does not pin/);
    expect(() => lockedPackage(lock, "@x/b")).toThrow("@x/b@1.0.0 has no sha512 integrity");
  });

  test("reads package-lock.json itself", () => {
    expect(lockedPackage(join(import.meta.dir, "../../package-lock.json"), "lmdb").version).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe("lockedFile", () => {
  const content = "the addon";
  const good = tarball("good", { "node.napi.node": content });
  const tampered = join(work, "tampered.tgz");
  const bytes = readFileSync(good);
  const bad = Buffer.from(bytes);
  bad[bad.length - 10] ^= 0xff;
  writeFileSync(tampered, bad);

  test("fetched once, verified, cached; the second use verifies the cached tarball and fetches nothing", () => {
    const cacheDir = mkdtempSync(join(work, "cache-"));
    const lock = lockfile({ "@lmdb/lmdb-test": { version: "3.5.6", integrity: sri(bytes) } });
    const fetch = fetcher(good);
    const first = lockedFile({ lockfile: lock, name: "@lmdb/lmdb-test", file: "node.napi.node", cacheDir, fetch });
    expect(first.cached).toBe(false);
    expect(new TextDecoder().decode(first.bytes)).toBe(content);
    expect(readFileSync(first.path, "utf8")).toBe(content);
    expect(first.sha256).toBe(createHash("sha256").update(content).digest("hex"));
    const second = lockedFile({ lockfile: lock, name: "@lmdb/lmdb-test", file: "node.napi.node", cacheDir, fetch });
    expect(second.cached).toBe(true);
    expect(fetch.calls).toBe(1);
  });

  test("a tampered tarball is refused and not cached", () => {
    const cacheDir = mkdtempSync(join(work, "cache-"));
    const lock = lockfile({ "@lmdb/lmdb-test": { version: "3.5.6", integrity: sri(bytes) } });
    expect(() => lockedFile({ lockfile: lock, name: "@lmdb/lmdb-test", file: "node.napi.node", cacheDir, fetch: fetcher(tampered) })).toThrow(
      /^@lmdb\/lmdb-test@3\.5\.6: sha512 mismatch — the lockfile pins sha512-/,
    );
    expect(Bun.spawnSync(["ls", "-A", cacheDir]).stdout.toString().trim()).toBe("");
  });

  test("a cached tarball that no longer matches is fetched again", () => {
    const cacheDir = mkdtempSync(join(work, "cache-"));
    const lock = lockfile({ "@lmdb/lmdb-test": { version: "3.5.6", integrity: sri(bytes) } });
    const fetch = fetcher(good);
    const first = lockedFile({ lockfile: lock, name: "@lmdb/lmdb-test", file: "node.napi.node", cacheDir, fetch });
    const cachedTarball = `${first.path.slice(0, -"/node.napi.node".length)}.tgz`;
    expect(existsSync(cachedTarball)).toBe(true);
    writeFileSync(cachedTarball, bad);
    const again = lockedFile({ lockfile: lock, name: "@lmdb/lmdb-test", file: "node.napi.node", cacheDir, fetch });
    expect(again.cached).toBe(false);
    expect(fetch.calls).toBe(2);
    expect(readFileSync(cachedTarball).equals(bytes)).toBe(true);
  });

  test("a package the lockfile does not pin is never fetched", () => {
    const fetch = fetcher(good);
    const lock = lockfile({});
    expect(() => lockedFile({ lockfile: lock, name: "@lmdb/lmdb-test", file: "x", cacheDir: join(work, "none"), fetch })).toThrow(/not in/);
    expect(fetch.calls).toBe(0);
  });
});
