/**
 * Whether this is the compiled executable (`npm run build`) or the source under Bun. Bun puts a
 * compiled executable's modules in an embedded file system: `/$bunfs/root/…` on Linux and macOS,
 * `B:\~BUN\root\…` (or with forward slashes, as in `import.meta.url`) on Windows.
 */

/** Whether `path` (a module's `import.meta.path`, `process.argv[1]`) lies in a compiled executable. */
export function isCompiledPath(path: string | undefined): boolean {
  return path !== undefined && (path.startsWith('/$bunfs/') || /^b:[\\/]~bun[\\/]/i.test(path));
}

/** Whether this process runs the compiled executable (every module is bundled into its entry). */
export const compiled = isCompiledPath(import.meta.path);
