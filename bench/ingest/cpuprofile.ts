/**
 * Where a server's CPU went, from a `.cpuprofile` written by `--cpu-prof` (the logs and events
 * bench's `--cpu-prof DIR`): functions by samples — self, and total (the function or anything it
 * called) — counting samples rather than Bun's time deltas, which give a sample taken after an
 * idle stretch the whole stretch. Idle and "(program)" samples are left out of the shares.
 *
 *   bun bench/ingest/cpuprofile.ts FILE.cpuprofile [--top 30] [--match REGEX]
 *
 * `--match`: only functions whose name or location matches (for a subsystem's share).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, match: { type: 'string' } } });
const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: Node) => {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '[native]';
  return `${f.functionName || '(anonymous)'} ${where}`;
};
const IDLE = new Set(['(idle)', '(program)', '(root)']);
const self = new Map<string, number>();
const total = new Map<string, number>();
let busy = 0;
let idle = 0;
for (const id of profile.samples) {
  const leaf = byId.get(id)!;
  if (IDLE.has(leaf.callFrame.functionName)) {
    idle++;
    continue;
  }
  busy++;
  self.set(label(leaf), (self.get(label(leaf)) ?? 0) + 1);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const l = label(byId.get(at)!);
    if (!seen.has(l)) {
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + 1);
    }
  }
}
const re = values.match ? new RegExp(values.match) : undefined;
const top = Number(values.top);
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [l, n] of [...m.entries()].filter(([l]) => !re || re.test(l)).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((n / busy) * 100).toFixed(1).padStart(6)}%  ${String(n).padStart(7)}  ${l}`);
  }
};
console.log(`${profile.samples.length} samples: ${busy} busy, ${idle} idle or (program)`);
show('self (share of busy samples)', self);
show('total (the function and what it called)', total);
