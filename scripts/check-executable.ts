/**
 * Checks a built executable for the machine it claims to be for — its own format, and the lmdb
 * addon inside it — without running it. The build runs this on every executable it writes (and
 * deletes one that fails); CI runs it on every release file, including those it cannot run.
 *
 *   bun scripts/check-executable.ts <target> <file>      # exit 0 and one line, or the problems
 *
 * Decided here:
 *   - Format: scripts/binary-format.ts against the target (ELF x86-64/AArch64 with the right
 *     libc's interpreter, signed Mach-O arm64/x86_64, console PE AMD64).
 *   - The addon: Bun stores an embedded `.node` file as is, so the exact bytes of the target's
 *     verified addon must appear in the executable, and the bytes of every other addon we build
 *     with (other OS, other CPU, other libc) must not. The CLI gets those addons through
 *     scripts/locked-package.ts (cached by a build, or fetched and verified).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { formatProblems, inspectBinary, describeFormat } from "./binary-format.ts";
import { defaultCacheDir, lockedFile } from "./locked-package.ts";
import { parseTarget, TARGETS, type Target } from "./targets.ts";

export interface AddonBytes {
  /** e.g. "@lmdb/lmdb-linux-x64/node.napi.musl.node" */
  label: string;
  bytes: Uint8Array;
}

/** Every reason `exe` is not a correct executable for `target`; empty when it is. */
export function executableProblems(exe: Uint8Array, target: Target, own: AddonBytes, others: AddonBytes[]): string[] {
  const problems = formatProblems(exe, target, "executable");
  const haystack = Buffer.from(exe.buffer, exe.byteOffset, exe.byteLength);
  if (haystack.indexOf(own.bytes) < 0) {
    problems.push(`the ${target.name} addon ${own.label} (${own.bytes.length} bytes) is not embedded`);
  }
  for (const other of others) {
    if (other.bytes.length && haystack.indexOf(other.bytes) >= 0) {
      problems.push(`${other.label}, an addon for another target, is embedded`);
    }
  }
  return problems;
}

function addonLabel(t: Target): string {
  return `${t.addonPackage}/${t.addonFile}`;
}

if (import.meta.main) {
  const [name, file] = process.argv.slice(2);
  if (!name || !file) {
    console.error("usage: bun scripts/check-executable.ts <target> <file>");
    process.exit(2);
  }
  const projectRoot = resolve(import.meta.dir, "..");
  try {
    const target = parseTarget(name);
    const addon = (t: Target): AddonBytes => {
      const f = lockedFile({
        lockfile: `${projectRoot}/package-lock.json`,
        name: t.addonPackage,
        file: t.addonFile,
        cacheDir: defaultCacheDir(projectRoot),
      });
      return { label: addonLabel(t), bytes: f.bytes };
    };
    const exe = readFileSync(file);
    const others = TARGETS.filter((t) => addonLabel(t) !== addonLabel(target)).map(addon);
    const problems = executableProblems(exe, target, addon(target), others);
    if (problems.length) {
      console.error(`${file} is not a correct ${target.name} executable:\n  ${problems.join("\n  ")}`);
      process.exit(1);
    }
    console.log(
      `${file}: ${describeFormat(inspectBinary(exe))}; embeds ${addonLabel(target)}, none of the other ${others.length} addons`,
    );
  } catch (err) {
    console.error(`check-executable: ${(err as Error).message}`);
    process.exit(1);
  }
}
