/**
 * The query matrix's report: one markdown table per size (artifactd's and SQLite's medians, their
 * ratio, artifactd's growth from the size ten times smaller, the row's target class and verdict),
 * the no-waiting row, and a summary of misses. Written whole to bench/RESULTS-queries.md; a short
 * section of bench/RESULTS.md (between two marker comments, which the main bench keeps when it
 * rewrites that file) links to it and repeats the summary.
 *
 * Verdicts, per row at each size (the issue states them for 1M; smaller sizes show the same
 * rules as a preview): artifactd at least as fast as SQLite; "touch" rows at least 3× faster;
 * "index" rows, where the size ten times smaller was measured too, within 3× of their own figure
 * there. A row whose artifactd request hit the cap, answered an error or differs from SQLite
 * misses.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { shortBody } from './matrix.ts';
import type { RowResult } from './measure.ts';
import type { Latencies, NoWaiting } from './no-waiting.ts';

export interface SizeReport {
  n: number;
  seedSeconds: number;
  exportLoadSeconds: number;
  sqliteBytes: number;
  counts: Record<string, number>;
  matrixSeconds: number;
  /** rows that hit the cap, after each of which the server was restarted */
  restarts: number;
  /** median GET /api/health round trip: what any request costs over loopback HTTP */
  floorMs: number;
  otherCpu: number;
  results: RowResult[];
  noWaiting?: NoWaiting;
}

export interface RunInfo {
  command: string;
  date: string;
  machine: string;
  capMs: number;
  totalSeconds: number;
  complete: boolean;
}

export const fmtN = (n: number) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${Math.round(ms * 1000)} µs`;
}

function fmtX(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  if (x >= 10) return `${Math.round(x)}×`;
  if (x >= 1) return `${x.toFixed(1)}×`;
  return `${x.toPrecision(2)}×`;
}

export interface Verdict {
  ok: boolean;
  why: string[];
  ratio?: number;
  growth?: number;
}

/** The row's verdict at this size; `smaller` is the same row at N/10, when measured. */
export function verdict(r: RowResult, smaller: RowResult | undefined, capMs: number): Verdict {
  const why: string[] = [];
  if (r.error) return { ok: false, why: ['error'] };
  if (r.artifactd.capped || r.artifactd.ms === undefined) return { ok: false, why: [`> cap (${fmtMs(r.capMs ?? capMs)})`] };
  const ratio = (r.sqlite.ms ?? r.sqlite.samples[0]) / r.artifactd.ms; // SQLite's single run when it hit the cap
  const growth = smaller?.artifactd.ms !== undefined ? r.artifactd.ms / smaller.artifactd.ms : undefined;
  if (r.differs) why.push('differs');
  if (ratio < 1) why.push('slower than SQLite');
  else if (r.cls === 'touch' && ratio < 3) why.push('< 3× SQLite');
  if (r.cls === 'index' && growth !== undefined && growth > 3) why.push(`grew ${fmtX(growth)}`);
  return { ok: why.length === 0, why, ratio, growth };
}

function lat(l: Latencies): string {
  return `p50 ${fmtMs(l.p50)}, p99 ${fmtMs(l.p99)}, max ${fmtMs(l.max)} (${l.n.toLocaleString('en-US')} requests)`;
}

export function noWaitingVerdict(w: NoWaiting): { get: number; health: number; ok: boolean } {
  const get = w.loaded.get.p99 / w.idle.get.p99;
  const health = w.loaded.health.p99 / w.idle.health.p99;
  return { get, health, ok: get <= 3 && health <= 3 };
}

export function noWaitingMarkdown(w: NoWaiting): string {
  const v = noWaitingVerdict(w);
  return [
    `**No waiting** — while \`${w.row.id}\` (${w.rowMs === undefined ? 'over the cap' : fmtMs(w.rowMs)} alone) ran in a loop on ${w.connections} connections for ${w.seconds} s ` +
      `(${w.loadRequests.toLocaleString('en-US')} answered${w.loadErrors ? `, ${w.loadErrors} errors` : ''}):`,
    '',
    '| probe | idle | under load | p99 loaded ÷ idle | target ≤ 3× |',
    '|---|---|---|---:|---|',
    `| \`GET /api/artifacts/{id}\`, back to back | ${lat(w.idle.get)} | ${lat(w.loaded.get)} | ${fmtX(v.get)} | ${v.get <= 3 ? '✅' : '❌'} |`,
    `| \`GET /api/health\`, every 100 ms | ${lat(w.idle.health)} | ${lat(w.loaded.health)} | ${fmtX(v.health)} | ${v.health <= 3 ? '✅' : '❌'} |`,
  ].join('\n');
}

function sizeSection(s: SizeReport, all: SizeReport[], capMs: number): string {
  const smaller = all.find((o) => o.n * 10 === s.n);
  const byId = new Map(smaller?.results.map((r) => [r.row.id, r]) ?? []);
  const lines = [
    `## N = ${fmtN(s.n)} artifacts`,
    '',
    `Seeded ${Object.entries(s.counts)
      .map(([k, v]) => `${v.toLocaleString('en-US')} ${k.replace('_', ' ')}s`)
      .join(', ')} in ${s.seedSeconds.toFixed(0)} s; exported and loaded into SQLite (${(s.sqliteBytes / 1024 ** 2).toFixed(0)} MiB) in ` +
      `${s.exportLoadSeconds.toFixed(0)} s. HTTP round trip floor (\`GET /api/health\`, median): ${fmtMs(s.floorMs)}. The matrix took ${s.matrixSeconds < 120 ? `${s.matrixSeconds.toFixed(0)} s` : `${(s.matrixSeconds / 60).toFixed(1)} min`}` +
      `${s.restarts ? ` (${s.restarts} rows hit the cap; the server was restarted after each)` : ''}; other processes used ${s.otherCpu.toFixed(2)} cores meanwhile` +
      `${s.otherCpu > 0.15 ? ' ⚠️ (the machine was shared: figures are noisier)' : ''}.`,
    '',
    `| row | route | body | artifactd | SQLite | SQLite ÷ artifactd | artifactd vs ${smaller ? fmtN(smaller.n) : 'N/10'} | class | SQLite plan | answer | target |`,
    '|---|---|---|---:|---:|---:|---:|---|---|---:|---|',
  ];
  for (const r of s.results) {
    const v = verdict(r, byId.get(r.row.id), capMs);
    const ad = r.error ? 'error' : r.artifactd.capped ? `> ${fmtMs(r.capMs)}` : fmtMs(r.artifactd.ms);
    const answer = `${r.sqliteAnswer.toLocaleString('en-US')}${r.differs ? ` ⚠️ differs: ${r.differs}` : ''}`;
    lines.push(
      `| \`${r.row.id}\` | ${r.row.route} | \`${shortBody(r.row.body).replace(/\|/g, '\\|')}\` | ${ad} | ${fmtMs(r.sqlite.ms ?? r.sqlite.samples[0])}${r.sqlite.capped ? ' (1 run)' : ''} | ` +
        `${fmtX(v.ratio)} | ${fmtX(v.growth)} | ${r.cls} | ${r.plan} | ${answer} | ${v.ok ? '✅' : `❌ ${v.why.join(', ')}`} |`,
    );
  }
  const errors = s.results.filter((r) => r.error);
  if (errors.length) lines.push('', 'Errors:', '', ...errors.map((r) => `- \`${r.row.id}\`: ${r.error}`));
  if (s.noWaiting) lines.push('', noWaitingMarkdown(s.noWaiting));
  return lines.join('\n');
}

/** The summary: per size, how many rows meet the targets, and the misses at the largest size. */
export function summary(sizes: SizeReport[], capMs: number): string {
  const lines: string[] = [];
  for (const s of sizes) {
    const smaller = sizes.find((o) => o.n * 10 === s.n);
    const byId = new Map(smaller?.results.map((r) => [r.row.id, r]) ?? []);
    const vs = s.results.map((r) => ({ r, v: verdict(r, byId.get(r.row.id), capMs) }));
    const count = (cls: string) => {
      const of = vs.filter(({ r }) => r.cls === cls);
      return `${of.filter(({ v }) => v.ok).length}/${of.length}`;
    };
    const differs = s.results.filter((r) => r.differs).length;
    const nw = s.noWaiting ? noWaitingVerdict(s.noWaiting) : undefined;
    lines.push(
      `- **N = ${fmtN(s.n)}**: ${vs.filter(({ v }) => v.ok).length} of ${vs.length} rows meet their targets ` +
        `(index rows ${count('index')}, touch rows ${count('touch')})` +
        `${differs ? `; ⚠️ ${differs} rows differ from SQLite` : '; every answer equals SQLite\'s'}` +
        `${nw ? `; no-waiting: by-id p99 ${fmtX(nw.get)} and health p99 ${fmtX(nw.health)} of idle ${nw.ok ? '✅' : '❌'}` : ''}.`,
    );
  }
  const last = sizes[sizes.length - 1];
  if (last) {
    const smaller = sizes.find((o) => o.n * 10 === last.n);
    const byId = new Map(smaller?.results.map((r) => [r.row.id, r]) ?? []);
    const misses = last.results
      .map((r) => ({ r, v: verdict(r, byId.get(r.row.id), capMs) }))
      .filter(({ v }) => !v.ok)
      .sort((a, b) => (a.v.ratio ?? 0) - (b.v.ratio ?? 0));
    if (misses.length) {
      lines.push('', `Misses at N = ${fmtN(last.n)}, worst ratio first${misses.length > 25 ? ' (first 25)' : ''}:`, '');
      lines.push('| row | artifactd | SQLite | SQLite ÷ artifactd | class | why |', '|---|---:|---:|---:|---|---|');
      for (const { r, v } of misses.slice(0, 25)) {
        lines.push(
          `| \`${r.row.id}\` | ${r.artifactd.capped ? `> ${fmtMs(r.capMs)}` : fmtMs(r.artifactd.ms)} | ${fmtMs(r.sqlite.ms ?? r.sqlite.samples[0])} | ${fmtX(v.ratio)} | ${r.cls} | ${v.why.join(', ')} |`,
        );
      }
    }
  }
  return lines.join('\n');
}

export function markdown(info: RunInfo, sizes: SizeReport[]): string {
  return [
    '# artifactd query matrix beside SQLite',
    '',
    `Generated by \`${info.command}\` (\`bench/queries/\`; see \`bench/README.md\`) on ${info.date}, in ${(info.totalSeconds / 60).toFixed(1)} min` +
      `${info.complete ? '' : ' — **incomplete** (the run stopped early or is still going)'}.`,
    '',
    `Machine: ${info.machine}.`,
    '',
    'Each row sends one body to one route of the built server over 127.0.0.1 (time to the last byte of the reply) and runs the SQL Prefect 3.0.0 issues for it in ' +
      "`bun:sqlite`, in process, on the same records in Prefect's SQLite schema (time to the last row fetched). Figures are medians (7 runs for fast rows, " +
      `fewer for slow ones, at least 3 unless a run hits the cap: the larger of ${info.capMs / 1000} s and 1.5 × SQLite's time for the row, after which the ` +
      'server is restarted so the abandoned query cannot slow the next row). "SQLite ÷ artifactd" above 1× means artifactd is faster. ' +
      '"class" is the target that applies: *index* — SQLite answers through an index (lookups, or a walk of the sort\'s index that stops at the page) — and *touch* — ' +
      'SQLite must visit every artifact or key (counts over scans, sorts without an index, `like_`). Targets (the issue states them at 1M): every row at least as fast as SQLite; ' +
      'touch rows at least 3× faster; index rows within 3× of their own figure at N/10. "answer" is the count or number of rows, checked equal on both sides.',
    '',
    '## Summary',
    '',
    summary(sizes, info.capMs),
    '',
    ...sizes.map((s) => `${sizeSection(s, sizes, info.capMs)}\n`),
  ].join('\n');
}

const BEGIN = '<!-- queries:begin (written by npm run bench -- --queries) -->';
const END = '<!-- queries:end -->';

/** The marked section of RESULTS.md: a link to the full tables and the summary. */
export function resultsSection(info: RunInfo, sizes: SizeReport[], fullFile: string): string {
  return [
    BEGIN,
    '## Query matrix beside SQLite',
    '',
    `\`${info.command}\` on ${info.date}: every artifact filter field and run-side filter on the four filter/count routes, sorts, limits and a deep offset, ` +
      `timed against the SQL Prefect 3.0.0 issues on SQLite. Full tables: [${fullFile}](${fullFile}).`,
    '',
    summary(sizes, info.capMs),
    END,
  ].join('\n');
}

/** Puts `section` into the file's marked section (appended when there is none). */
export function updateResultsSection(file: string, section: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  writeFileSync(file, withSection(text, section));
}

export function withSection(text: string, section: string): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start !== -1 && end > start) return text.slice(0, start) + section + text.slice(end + END.length);
  return `${text.trimEnd()}\n\n${section}\n`;
}

/** For the main bench: the queries section of the file it is about to overwrite, if any. */
export function keptSection(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  return start !== -1 && end > start ? text.slice(start, end + END.length) : undefined;
}
