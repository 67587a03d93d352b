/**
 * The results as markdown: the machine, one table per N, memory and disk lines, the seeding
 * rate, and the targets with the measured figures.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';
import type { CpuUse } from './cpu.ts';
import type { DiskSize, Mem } from './server.ts';
import type { WrkResult } from './wrk.ts';

export interface Machine {
  date: string;
  nproc: number;
  cpu: string;
  memory: string;
  kernel: string;
  bun: string;
  wrk: string;
  filesystem: string;
  commit: string;
}

export interface ScenarioResult extends Omit<WrkResult, 'raw'> {
  id: string;
  title: string;
  connections: number;
  threads: number;
  bodyBytes: number;
  /** the server's memory peak while this scenario ran (kB); sampled on the main artifactd only */
  mem: Mem;
  /** the measured server sampled for memory (false for the ceiling and the request-logs server) */
  sampled: boolean;
  /** CPU used by other processes / stolen while it ran (cores) */
  cpu: CpuUse;
  /** req/s of every measurement (rounds); the other figures are the best one's */
  rounds: number[];
}

export interface SizeResult {
  n: number;
  flowRuns: number;
  taskRuns: number;
  keys: number;
  seedSeconds: number;
  artifactRate: number;
  idle: Mem;
  peak: Mem;
  /** the peak over the read scenarios only (before the creates) */
  readPeak: Mem;
  diskAfterSeed: DiskSize;
  diskFinal: DiskSize;
  /** /proc/loadavg's first three figures just before the load started */
  loadavg: string;
  /** the wait for a quiet machine before the load, if any */
  quiet?: { waited: number; other: number };
  scenarios: ScenarioResult[];
}

export interface RunInfo {
  machine: Machine;
  duration: number;
  warmup: number;
  connections: number;
  threads: number;
  rounds: number;
  command: string;
  totalSeconds: number;
  complete: boolean;
}

export function describeMachine(parts: { wrk: string; filesystem: string; commit: string }): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: availableParallelism(),
    cpu: cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim() ?? 'unknown',
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    kernel: `Linux ${release()}`,
    bun: Bun.version,
    wrk: parts.wrk,
    filesystem: parts.filesystem,
    commit: parts.commit,
  };
}

// ── formatting ───────────────────────────────────────────────────────────────────────────────

export function fmtLatency(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const mib = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;
const bytes = (b: number) => (b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(2)} GiB` : `${(b / 1024 ** 2).toFixed(1)} MiB`);
const ratio = (x: number) => `${x.toFixed(2)}×`;

export function fmtN(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

function pctOfCeiling(rps: number, ceiling: number | undefined): string {
  if (!ceiling) return '—';
  const p = (rps / ceiling) * 100;
  return `${p < 10 ? p.toFixed(2) : p.toFixed(1)}%`;
}

/** Other processes using more than this many cores make a measurement suspect. */
export const NOISY = 0.15;

const isCeiling = (id: string) => id === 'ceiling';

/** The ceiling's req/s (its best round) in this size's run. */
function ceilingOf(size: SizeResult): number | undefined {
  return size.scenarios.find((s) => isCeiling(s.id))?.rps;
}

function find(size: SizeResult | undefined, id: string): ScenarioResult | undefined {
  return size?.scenarios.find((s) => s.id === id);
}

export function sizeTable(size: SizeResult, base: SizeResult | undefined): string {
  const ceiling = ceilingOf(size);
  const compare = base !== undefined && base !== size;
  const vs = base ? fmtN(base.n) : 'base';
  const lines = [
    `| scenario | req/s | p50 | p99 | % of ceiling | req/s vs ${vs} | p50 vs ${vs} | reply bytes | server RssAnon peak | other CPU | req/s of each round |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const notes: string[] = [];
  for (const s of size.scenarios) {
    const b = compare ? find(base, s.id) : undefined;
    lines.push(
      `| ${s.title} | ${int(s.rps)} | ${fmtLatency(s.p50)} | ${fmtLatency(s.p99)} | ${pctOfCeiling(s.rps, ceiling)} | ` +
        `${b ? ratio(s.rps / b.rps) : '—'} | ${b ? ratio(s.p50 / b.p50) : '—'} | ${int(s.bodyBytes)} | ${s.sampled ? mib(s.mem.rssAnon) : '—'} | ${s.cpu.other.toFixed(2)}${s.cpu.other > NOISY ? ' ⚠️' : ''} | ${s.rounds.map(int).join(' · ')} |`,
    );
    if (s.non2xx || s.socketErrors) notes.push(`${s.title}: ${int(s.non2xx)} non-2xx answers, ${int(s.socketErrors)} socket errors`);
  }
  const out = [lines.join('\n'), ''];
  if (notes.length) out.push(...notes.map((n) => `- ⚠️ ${n}`), '');
  const noisy = size.scenarios.filter((s) => s.cpu.other > NOISY);
  const steal = Math.max(...size.scenarios.map((s) => s.cpu.steal));
  out.push(
    `- Other CPU: cores used by processes other than the bench's during each measurement (⚠️ over ${NOISY}: ` +
      `the load shared the machine, figures are low; such a measurement is taken again once the machine is quiet, and ` +
      `the best round stands). ${noisy.length ? `**${noisy.length} row(s) whose best round was noisy.** ` : 'No row rests on a noisy round. '}` +
      `Max hypervisor steal ${steal.toFixed(2)} cores. Load average before the load: ${size.loadavg}` +
      (size.quiet ? `, after waiting ${size.quiet.waited.toFixed(0)} s for a quiet machine (other CPU then ${size.quiet.other.toFixed(2)})` : '') +
      '.',
  );
  out.push(
    `- Seeded ${int(size.n)} artifacts over ${int(size.keys)} keys, ${int(size.flowRuns)} flow runs, ${int(size.taskRuns)} task runs ` +
      `in ${size.seedSeconds.toFixed(1)} s; artifacts at **${int(size.artifactRate)}/s** (through \`Store\`, chunks of concurrent creates).`,
    `- Server memory: idle after start RssAnon ${mib(size.idle.rssAnon)}, RssFile ${mib(size.idle.rssFile)}; ` +
      `peak over the reads RssAnon **${mib(size.readPeak.rssAnon)}**, RssFile ${mib(size.readPeak.rssFile)}; ` +
      `peak overall (creates included) RssAnon **${mib(size.peak.rssAnon)}**, RssFile ${mib(size.peak.rssFile)}, VmRSS ${mib(size.peak.vmRss)}.`,
    `- Store on disk: after seeding ${bytes(size.diskAfterSeed.allocated)} allocated (${bytes(size.diskAfterSeed.apparent)} apparent); ` +
      `after the run ${bytes(size.diskFinal.allocated)} allocated (${bytes(size.diskFinal.apparent)} apparent).`,
  );
  return out.join('\n');
}

// ── targets ──────────────────────────────────────────────────────────────────────────────────

/** " during <scenario>" for the scenario with the highest RssAnon peak. */
function hungriest(size: SizeResult): string {
  let top: ScenarioResult | undefined;
  for (const s of size.scenarios) if (s.sampled && (!top || s.mem.rssAnon > top.mem.rssAnon)) top = s;
  return top ? `, during ${top.title}` : '';
}

interface Target {
  text: string;
  measured: string;
  ok: boolean | undefined;
}

function targets(sizes: SizeResult[]): Target[] {
  const base = sizes[0];
  const top = sizes[sizes.length - 1];
  const at = top && top.n >= 1_000_000 ? '' : top ? ` — at ${fmtN(top.n)}, **1M not measured** (run with \`--million\`)` : '';
  const out: Target[] = [];

  const shareTarget = (id: string, label: string, min: number) => {
    const parts: string[] = [];
    let ok: boolean | undefined = true;
    for (const size of sizes) {
      const s = find(size, id);
      const c = ceilingOf(size);
      if (!s || !c) {
        ok = undefined;
        continue;
      }
      const share = s.rps / c;
      parts.push(`${fmtN(size.n)}: ${pctOfCeiling(s.rps, c)} (${int(s.rps)} of ${int(c)} req/s)`);
      if (share < min) ok = false;
    }
    out.push({ text: `${label} ≥ ${min * 100}% of the ceiling's req/s`, measured: parts.join('; ') || 'not measured', ok: parts.length ? ok : undefined });
  };
  shareTarget('get-by-id', 'GET by id', 0.6);
  shareTarget('latest-by-key', 'GET latest by key', 0.6);
  shareTarget('filter-all-200', 'filter `{}` limit 200', 0.015);

  const growthTarget = (id: string, label: string, max: number) => {
    const b = find(base, id);
    const t = find(top, id);
    if (!b || !t || base === top) {
      out.push({ text: `${label} at 1M within ${max}× of its 10k p50`, measured: base === top ? 'needs two sizes' : 'not measured', ok: undefined });
      return;
    }
    const r = t.p50 / b.p50;
    out.push({
      text: `${label} at 1M within ${max}× of its 10k p50`,
      measured: `${fmtN(top.n)} p50 ${fmtLatency(t.p50)} vs ${fmtN(base.n)} ${fmtLatency(b.p50)}: ${ratio(r)}${at}`,
      ok: r <= max,
    });
  };
  growthTarget('filter-flow-run-10', 'filter by flow run (limit 10)', 1.5);
  growthTarget('latest-by-key', 'GET latest by key', 1.5);
  growthTarget('count-all', 'count `{}`', 1.5);
  growthTarget('filter-all-200', 'filter `{}` limit 200', 2);

  {
    const parts: string[] = [];
    let ok = true;
    for (const size of sizes) {
      const s = find(size, 'create-64');
      if (!s) continue;
      parts.push(`${fmtN(size.n)}: ${int(s.rps)}/s (p99 ${fmtLatency(s.p99)})`);
      if (s.rps < 5000 || s.non2xx > 0) ok = false;
    }
    out.push({ text: '≥ 5,000 durable creates/s with 64 connections', measured: parts.join('; ') || 'not measured', ok: parts.length ? ok : undefined });
  }
  if (top) {
    const limitKb = (150e6 / 1024);
    out.push({
      text: 'server RssAnon ≤ 150 MB (143.1 MiB) while serving 1M artifacts',
      measured:
        `${fmtN(top.n)}: peak RssAnon ${mib(top.peak.rssAnon)}${hungriest(top)} (reads only: ${mib(top.readPeak.rssAnon)}), ` +
        `RssFile ${mib(top.peak.rssFile)}${at}`,
      ok: top.peak.rssAnon <= limitKb,
    });
  }
  return out;
}

export function markdown(info: RunInfo, sizes: SizeResult[]): string {
  const m = info.machine;
  const base = sizes[0];
  const parts = [
    '# artifactd benchmark results',
    '',
    info.complete ? '' : '> **Incomplete run** — the sizes below finished before the run stopped.\n',
    `Generated by \`${info.command}\` (\`bench/run.ts\`; see \`bench/README.md\`) on ${m.date}, in ${(info.totalSeconds / 60).toFixed(1)} min.`,
    '',
    '| machine | |',
    '|---|---|',
    `| CPUs (nproc) | ${m.nproc} |`,
    `| CPU | ${m.cpu} |`,
    `| memory | ${m.memory} |`,
    `| kernel | ${m.kernel} |`,
    `| bun | ${m.bun} |`,
    `| wrk | ${m.wrk} |`,
    `| data dir filesystem | ${m.filesystem} |`,
    `| artifactd commit | ${m.commit} |`,
    '',
    `Load: wrk over 127.0.0.1, ${info.duration} s per measurement after a ${info.warmup} s warm-up. Reads (the ceiling included) ` +
      `with ${info.connections} connections and ${info.threads} wrk thread(s), measured ${info.rounds}× round-robin; each row is ` +
      `its best round (highest req/s), all rounds listed at the right — their spread is the machine's noise. Creates once, ` +
      `after the reads, with 64 connections and 2 threads. Latencies are wrk's (closed loop: ` +
      `at a fixed connection count, p50 ≈ connections ÷ req/s). "vs ${base ? fmtN(base.n) : 'base'}" columns are this size's ` +
      `figure divided by the ${base ? fmtN(base.n) : 'smallest size'}'s.`,
    '',
  ];
  for (const size of sizes) {
    parts.push(`## N = ${fmtN(size.n)} artifacts`, '', sizeTable(size, base), '');
  }
  parts.push('## Targets', '', '| target | measured | |', '|---|---|---|');
  for (const t of targets(sizes)) parts.push(`| ${t.text} | ${t.measured} | ${t.ok === undefined ? '—' : t.ok ? '✅' : '❌'} |`);
  parts.push('');
  return parts.filter((line, i) => !(line === '' && parts[i - 1] === '')).join('\n');
}
