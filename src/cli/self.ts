/**
 * Running this same artifactd as a child process: the compiled executable runs itself, the
 * source runs its entry script under the same Bun. Used where a step could crash the process
 * that does it (opening an untrusted LMDB file maps it into memory).
 */
import { isCompiledPath } from '../executable.ts';

/** The argv prefix that starts this artifactd. */
function selfCommand(): string[] {
  const script = process.argv[1];
  // A compiled executable's entry lives in Bun's embedded file system (executable.ts).
  return script === undefined || isCompiledPath(script) ? [process.execPath] : [process.execPath, script];
}

/** Runs `artifactd check --json` on `dir` (with an LMDB map of `mapSize` bytes, when given) in a child process and returns its findings. */
export async function checkInChild(dir: string, mapSize?: number): Promise<string[]> {
  const map = mapSize === undefined ? [] : ['--map-size', String(mapSize)];
  const proc = Bun.spawn([...selfCommand(), 'check', '--json', '--data-dir', dir, ...map], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code === 0 || code === 1) {
    try {
      return (JSON.parse(out) as { findings: string[] }).findings;
    } catch {
      // fall through: not check's output
    }
  }
  const why = proc.signalCode ? `reading it killed the process (${proc.signalCode})` : (err.trim().split('\n')[0] || `check exited with ${code}`);
  throw new Error(why.replace(/^artifactd: /, ''));
}
