/**
 * Every child the bench starts (servers, wrk) is tracked here and killed — by its own pid —
 * when the bench exits, fails or is interrupted; temp dirs registered here are removed then too.
 */
import { rmSync } from 'node:fs';
import type { Subprocess } from 'bun';

const children = new Set<Subprocess>();
const cleanups: (() => void)[] = [];

export function track(proc: Subprocess): void {
  children.add(proc);
}

export function untrack(proc: Subprocess): void {
  children.delete(proc);
}

export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
}

export function removeDirOnExit(dir: string): () => void {
  let done = false;
  const remove = () => {
    if (done) return;
    done = true;
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(remove);
  return remove;
}

let cleaned = false;
export function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  for (const proc of children) {
    try {
      proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
  for (const fn of cleanups.reverse()) {
    try {
      fn();
    } catch (error) {
      console.error(`bench: cleanup: ${(error as Error).message}`);
    }
  }
}

export function installExitHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping`);
      cleanup();
      process.exit(130);
    });
  }
  process.on('exit', cleanup);
}
