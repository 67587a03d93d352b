/**
 * The logs-and-events section of bench/RESULTS.md: ingest (log lines and events per second,
 * against the ingest ceiling in the same run, with what the stores held afterwards), log reads at
 * each size with the largest size's p50 over the smallest's, and the issue's targets.
 */
import { fmtLatency, fmtN, NOISY, type Machine } from '../report.ts';
import type { LogSeeded } from './log-reads.ts';
import type { Options } from './run.ts';
import { BEGIN, END } from './section.ts';

export type TargetId = 'ceiling' | 'lmdb' | 'pg';

/** Cores used over a measurement. */
export interface Cores {
  /** the measured server (artifactd, or the ceiling) */
  server: number;
  /** PostgreSQL's processes */
  pg: number;
  /** the load client: wrk, or the websocket client (its own measure over its send window) */
  client: number;
  /** every other process */
  other: number;
  steal: number;
}

export interface Measurement {
  target: TargetId;
  /** records/s (log ingest), events/s stored (events), req/s (reads) */
  rate: number;
  /** requests/s (log ingest, reads); events/s to the last pong (events) */
  rps: number;
  /** µs: wrk's latency; for events, a checkpoint's ping → pong */
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  cores: Cores;
  /** `rate` of every round */
  rounds: number[];
  /** reads: the rows of the first answer, and its bytes */
  rows?: number;
  bytes?: number;
  /**
   * reads too slow for wrk (first answer over SLOW_MS): timed one request at a time instead
   * (p50 the median, p99 the slowest, req/s one connection's); or an answer other than 200
   * (the query deadline's 503): `failed` says so and the figures are that request's.
   */
  sequential?: boolean;
  failed?: string;
  events?: { sent: number; stored: number; pongMs: number; storedMs?: number; extensions: string; errors: string[]; bytes: number };
  /** PostgreSQL: its statements over the measurement (pg_stat_statements), most execution time first */
  statements?: Statement[];
}

export interface Statement {
  calls: number;
  meanMs: number;
  totalMs: number;
  query: string;
}

export interface IngestRun {
  logs: Map<TargetId, Measurement>;
  events: Map<TargetId, Measurement>;
  /** what each store held after its server stopped */
  verify: Map<TargetId, { logsAcked: number; logs: number; eventsSent: number; events: number }>;
  loadavg: string;
  /** peak RssAnon, kB */
  rss: Map<TargetId, number>;
  /** whether permessage-deflate was negotiated */
  deflate: boolean;
}

export interface ReadSize {
  n: number;
  seeded: Map<TargetId, LogSeeded>;
  /** scenario id (and 'ceiling') → target → best round */
  results: Map<string, Map<TargetId, Measurement>>;
  loadavg: string;
  rss: Map<TargetId, number>;
}

export interface Report {
  machine: Machine;
  command: string;
  opts: Options;
  cluster?: { version: string; settings: Record<string, string> };
  minutes: number;
  complete: boolean;
  ingest?: IngestRun;
  sizes: ReadSize[];
}

const LOG_TARGET = 50_000;
const EVENT_TARGET = 20_000;
const READ_GROWTH = 1.5;

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const mib = (kb: number | undefined) => (kb === undefined ? '—' : `${(kb / 1024).toFixed(0)} MiB`);
const pct = (a: number, b: number | undefined) => (b ? `${((a / b) * 100).toFixed(a / b < 0.1 ? 1 : 0)}%` : '—');
const mark = (ok: boolean | undefined) => (ok === undefined ? '—' : ok ? '✅' : '❌');
const LABEL: Record<TargetId, string> = { ceiling: 'ceiling (bare Bun.serve)', lmdb: 'LMDB', pg: 'PostgreSQL' };
const cores = (m: Measurement, pg: boolean) =>
  `${m.cores.server.toFixed(2)}${pg ? ` / ${m.cores.pg.toFixed(2)}` : ''} / ${m.cores.client.toFixed(2)}`;
/** CPU time per record or event (µs): cores over the window ÷ the rate over the same window. */
const perUnit = (m: Measurement, pg: boolean) =>
  m.rate > 0 ? `${((m.cores.server / m.rate) * 1e6).toFixed(1)}${pg ? ` / ${((m.cores.pg / m.rate) * 1e6).toFixed(1)}` : ''} µs` : '—';
const other = (m: Measurement) => `${m.cores.other.toFixed(2)}${m.cores.other > NOISY ? ' ⚠️' : ''}`;

function ingestTables(r: Report, run: IngestRun): string[] {
  const o = r.opts;
  const pg = o.postgres;
  const out: string[] = [];
  const targets: TargetId[] = ['ceiling', 'lmdb', ...(pg ? (['pg'] as const) : [])];
  if (run.logs.size) {
    const ceiling = run.logs.get('ceiling');
    out.push(
      `#### \`POST /api/logs/\`, ${o.batch}-record bodies, ${o.ingestConnections} connections (wrk, ${o.duration} s after ${o.warmup} s warm-up)`,
      '',
      `| target | records/s | requests/s | p50 | p99 | % of ceiling | cores server${pg ? ' / PG' : ''} / wrk | CPU per record, server${pg ? ' / PG' : ''} | other CPU | records/s of each round |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const t of targets) {
      const m = run.logs.get(t);
      if (!m) continue;
      out.push(
        `| ${LABEL[t]} | **${int(m.rate)}** | ${int(m.rps)} | ${fmtLatency(m.p50)} | ${fmtLatency(m.p99)} | ${t === 'ceiling' ? '100%' : pct(m.rate, ceiling?.rate)} | ${cores(m, pg)} | ${perUnit(m, pg && t !== 'ceiling')} | ${other(m)} | ${m.rounds.map(int).join(' · ')} |`,
      );
    }
    out.push('');
    for (const t of targets) {
      const m = run.logs.get(t);
      if (m && (m.non2xx || m.socketErrors)) out.push(`- ⚠️ ${LABEL[t]}: ${int(m.non2xx)} non-2xx answers, ${int(m.socketErrors)} socket errors (best round)`);
    }
  }
  if (run.events.size) {
    const ceiling = run.events.get('ceiling');
    out.push(
      `#### \`/api/events/in\`, ${o.sockets} websockets × ${int(o.events)} events, a ping/pong checkpoint every ${o.checkpoint}`,
      '',
      `| target | events/s stored | events/s to the last pong | checkpoint ping → pong p50 | p99 | % of ceiling | all stored after | cores server${pg ? ' / PG' : ''} / client | CPU per event, server${pg ? ' / PG' : ''} | other CPU | stored events/s of each round |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const t of targets) {
      const m = run.events.get(t);
      if (!m?.events) continue;
      const e = m.events;
      out.push(
        `| ${LABEL[t]} | **${int(m.rate)}** | ${int(m.rps)} | ${fmtLatency(m.p50)} | ${fmtLatency(m.p99)} | ${t === 'ceiling' ? '100%' : pct(m.rate, ceiling?.rate)} | ` +
          `${e.storedMs === undefined ? `❌ ${int(e.stored)} of ${int(e.sent)}` : `${(e.storedMs / 1000).toFixed(2)} s (last pong ${(e.pongMs / 1000).toFixed(2)} s)`} | ${cores(m, pg)} | ${perUnit(m, pg && t !== 'ceiling')} | ${other(m)} | ${m.rounds.map(int).join(' · ')} |`,
      );
    }
    out.push('');
    for (const t of targets) {
      const m = run.events.get(t);
      if (m?.events?.errors.length) out.push(`- ⚠️ ${LABEL[t]}: ${m.events.errors.join('; ')}`);
    }
    const any = [...run.events.values()][0];
    if (any?.events) {
      out.push(
        `- Events' cores are over the time from the first frame until all were counted stored (the client's over its send window); "CPU per event" is that over the stored rate.`,
        `- Events average ${int(any.events.bytes / Math.max(1, any.events.sent))} bytes of JSON; permessage-deflate ${run.deflate ? 'negotiated' : o.deflate ? 'offered and not negotiated' : 'not offered'}. ` +
          '"events/s stored" is the events of the round over the time from the first frame until `POST /api/events/filter` on the round\'s `occurred` window counted them all; "to the last pong" stops at the last checkpoint.',
      );
    }
  }
  const profiles: string[] = [];
  for (const [what, m, unit] of [
    ['log ingest', run.logs.get('pg'), 'record'],
    ['events', run.events.get('pg'), 'event'],
  ] as const) {
    if (!m?.statements?.length) continue;
    const units = m.events ? m.events.sent : m.rate * (m.requests / Math.max(1, m.rps));
    const exec = m.statements.reduce((sum, x) => sum + x.totalMs, 0);
    const top = m.statements
      .slice(0, 4)
      .map((x) => `${x.meanMs.toFixed(3)} ms × ${int(x.calls)} \`${x.query.slice(0, 140).replace(/`/g, "'")}${x.query.length > 140 ? '…' : ''}\``)
      .join('; ');
    profiles.push(`  - ${what}: ${((exec / Math.max(1, units)) * 1000).toFixed(1)} µs of PostgreSQL execution per ${unit} (${int(exec)} ms over ${int(units)} ${unit}s); ${top}`);
  }
  if (profiles.length) out.push('', `- Where PostgreSQL's time goes (pg_stat_statements over the best round, statements with most execution time):`, ...profiles);
  out.push('');
  for (const [t, v] of run.verify) {
    const logsOk = v.logs >= v.logsAcked;
    const eventsOk = v.events === v.eventsSent;
    out.push(
      `- ${LABEL[t]}'s store afterwards: ${int(v.logs)} log lines for ${int(v.logsAcked)} acknowledged (201) ${logsOk ? '✅' : '❌ lost lines'}` +
        `${v.logs > v.logsAcked ? ` (the rest: bodies in flight when wrk stopped, stored but not counted)` : ''}; ` +
        `${int(v.events)} events for ${int(v.eventsSent)} sent ${eventsOk ? '✅' : '❌'}.`,
    );
  }
  out.push(
    `- Peak RssAnon: ${targets.filter((t) => t !== 'ceiling').map((t) => `${LABEL[t]} artifactd ${mib(run.rss.get(t))}`).join(', ')}. Load average before: ${run.loadavg}.`,
  );
  return out;
}

function readTables(r: Report): string[] {
  const sizes = r.sizes;
  if (!sizes.length) return [];
  const small = sizes[0];
  const big = sizes[sizes.length - 1];
  const out: string[] = [
    `${r.opts.connections} connections, ${r.opts.duration} s after ${r.opts.warmup} s warm-up, ${r.opts.rounds}× round-robin, best round. ` +
      `"p50 ${fmtN(big.n)} ÷ ${fmtN(small.n)}": the same query's p50 at ${fmtN(big.n)} lines over ${fmtN(small.n)}; "% of ceiling": req/s over the bare Bun.serve's (fixed JSON, GET) in the same size's run.`,
    '',
  ];
  const backends: TargetId[] = r.opts.postgres ? ['lmdb', 'pg'] : ['lmdb'];
  for (const b of backends) {
    const header = sizes.map((s) => `${fmtN(s.n)} req/s | ${fmtN(s.n)} p50 | ${fmtN(s.n)} p99`).join(' | ');
    out.push(
      `#### ${LABEL[b]}`,
      '',
      `| query | rows | ${header} | p50 ${fmtN(big.n)} ÷ ${fmtN(small.n)} | % of ceiling at ${fmtN(big.n)} | cores server${b === 'pg' ? ' / PG' : ''} at ${fmtN(big.n)} |`,
      `|---|---:|${sizes.map(() => '---:|---:|---:|').join('')}---:|---:|---:|`,
    );
    for (const sc of r.opts.reads) {
      const cells: string[] = [];
      const rows: string[] = [];
      for (const s of sizes) {
        const m = s.results.get(sc.id)?.get(b);
        cells.push(
          !m
            ? '— | — | —'
            : m.failed
              ? `⚠️ ${m.failed.split(':')[0]} | — | —`
              : `${int(m.rps)}${m.sequential ? ' †' : ''} | ${fmtLatency(m.p50)} | ${fmtLatency(m.p99)}`,
        );
        rows.push(m?.rows === undefined ? '—' : String(m.rows));
      }
      const x = small.results.get(sc.id)?.get(b);
      const y = big.results.get(sc.id)?.get(b);
      const ceiling = big.results.get('ceiling')?.get('ceiling');
      const ratio = x && y && small !== big && !x.failed && !y.failed ? y.p50 / x.p50 : undefined;
      const flag = ratio === undefined ? '—' : `${ratio.toFixed(2)}×${sc.target ? ` ${mark(ratio <= READ_GROWTH)}` : ''}`;
      const uniqueRows = [...new Set(rows)].join(' · ');
      out.push(
        `| ${sc.target ? `**${sc.title}**` : sc.title} | ${uniqueRows} | ${cells.join(' | ')} | ${flag} | ${y ? pct(y.rps, ceiling?.rps) : '—'} | ${y ? `${y.cores.server.toFixed(2)}${b === 'pg' ? ` / ${y.cores.pg.toFixed(2)}` : ''}` : '—'} |`,
      );
    }
    out.push('');
  }
  const all = sizes.flatMap((s) => [...s.results.values()].flatMap((m) => [...m.values()]));
  if (all.some((m) => m.sequential)) {
    out.push(`- † too slow for the load (first answer over 250 ms): timed one request at a time, 3 requests; p50 the median, p99 the slowest, req/s one connection's (1 ÷ p50).`);
  }
  if (all.some((m) => m.failed)) out.push(`- ⚠️ an answer other than 200 (the query deadline's 503, \`--query-timeout\`, 10 s by default): the row was not loaded; the figure is that one request's status and time.`);
  for (const s of sizes) {
    const c = s.results.get('ceiling')?.get('ceiling');
    const seeded = [...s.seeded.entries()].map(([t, x]) => `${LABEL[t]} ${x.seconds.toFixed(1)} s (${int(x.rate)} lines/s)`).join(', ');
    const first = [...s.seeded.values()][0];
    const noisy = [...s.results.values()].flatMap((m) => [...m.values()]).filter((m) => m.cores.other > NOISY).length;
    const errors = [...s.results.entries()].flatMap(([id, m]) => [...m.values()].filter((x) => x.non2xx || x.socketErrors).map((x) => `${id} on ${LABEL[x.target]}: ${x.non2xx} non-2xx, ${x.socketErrors} socket errors`));
    out.push(
      `- N = ${fmtN(s.n)}: seeded through the store's \`logs.append\` in batches of 10,000 — ${seeded}; hot run ${int(first?.hotLines ?? 0)} lines, ${int(first?.runs.length ?? 0)} other runs. ` +
        `Ceiling ${c ? int(c.rps) : '—'} req/s. Peak RssAnon ${[...s.rss.entries()].map(([t, kb]) => `${LABEL[t]} ${mib(kb)}`).join(', ')}. Load average before: ${s.loadavg}. ` +
        `${noisy ? `⚠️ ${noisy} best round(s) shared the machine (other CPU > ${NOISY}).` : 'No best round shared the machine.'}` +
        (errors.length ? ` ⚠️ ${errors.join('; ')}.` : ''),
    );
  }
  return out;
}

function targets(r: Report): string[] {
  const backends: TargetId[] = r.opts.postgres ? ['lmdb', 'pg'] : ['lmdb'];
  const rows = [`| target | ${backends.map((b) => LABEL[b]).join(' | ')} |`, `|---|${backends.map(() => '---|').join('')}`];
  const run = r.ingest;
  if (run?.logs.size) {
    rows.push(
      `| ≥ ${int(LOG_TARGET)} log records/s, \`POST /api/logs/\` with ${r.opts.batch}-record bodies, durable | ${backends
        .map((b) => {
          const m = run.logs.get(b);
          const v = run.verify.get(b);
          return m ? `${int(m.rate)}/s (p99 ${fmtLatency(m.p99)})${v && v.logs < v.logsAcked ? ', lines lost' : ''} ${mark(m.rate >= LOG_TARGET && m.non2xx === 0 && (!v || v.logs >= v.logsAcked))}` : '—';
        })
        .join(' | ')} |`,
    );
  }
  if (run?.events.size) {
    rows.push(
      `| ≥ ${int(EVENT_TARGET)} events/s over ${r.opts.sockets} websockets, durable (stored) | ${backends
        .map((b) => {
          const m = run.events.get(b);
          const v = run.verify.get(b);
          return m ? `${int(m.rate)}/s stored (${int(m.rps)}/s to the last pong)${v && v.events !== v.eventsSent ? ', events lost' : ''} ${mark(m.rate >= EVENT_TARGET && (!v || v.events === v.eventsSent))}` : '—';
        })
        .join(' | ')} |`,
    );
  }
  const small = r.sizes[0];
  const big = r.sizes[r.sizes.length - 1];
  for (const sc of r.opts.reads.filter((s) => s.target)) {
    if (!small || small === big) {
      rows.push(`| ${sc.title}: p50 at the largest size within ${READ_GROWTH}× of the smallest | ${backends.map(() => 'needs two sizes').join(' | ')} |`);
      continue;
    }
    rows.push(
      `| ${sc.title}: p50 at ${fmtN(big.n)} within ${READ_GROWTH}× of ${fmtN(small.n)} | ${backends
        .map((b) => {
          const x = small.results.get(sc.id)?.get(b);
          const y = big.results.get(sc.id)?.get(b);
          if (!x || !y) return '—';
          if (x.failed || y.failed) return `${(y.failed ?? x.failed)!.split(':')[0]} ❌`;
          const ratio = y.p50 / x.p50;
          return `${fmtLatency(y.p50)} vs ${fmtLatency(x.p50)}: ${ratio.toFixed(2)}× ${mark(ratio <= READ_GROWTH)}`;
        })
        .join(' | ')} |`,
    );
  }
  return rows;
}

export function render(r: Report): string {
  const m = r.machine;
  const o = r.opts;
  const parts = [
    BEGIN,
    '## Logs and events',
    '',
    `Generated by \`${r.command}\` (\`bench/ingest/run.ts\`; see \`bench/README.md\`) on ${m.date} in ${r.minutes.toFixed(1)} min${r.complete ? '' : ' (**incomplete**: a later part failed or is still running)'}; ` +
      `artifactd ${m.commit}${o.cpuProf ? ' **run from source under the profiler** (`--cpu-prof`)' : ''}, ${m.nproc} CPUs (${m.cpu}), ${m.memory}, bun ${m.bun}, wrk ${m.wrk}. ` +
      `Everything over 127.0.0.1; the load clients share the machine with the servers.`,
    '',
    `Durable on both backends: artifactd on LMDB as it runs by default (a write is acknowledged once its commit is flushed to disk)` +
      (r.cluster
        ? `; on PostgreSQL ${r.cluster.version}, the bench's own cluster with ${Object.entries(r.cluster.settings)
            .map(([k, v]) => `\`${k}=${v}\``)
            .join(', ')}, artifactd's pool ${o.poolSize ?? 10}.`
        : '.') +
      ` "cores": CPU used during the measurement by the server, ${o.postgres ? "PostgreSQL's processes, " : ''}and the load client (wrk, or the websocket client's own process); "other CPU": every other process (⚠️ above ${NOISY}).`,
    '',
  ];
  if (r.ingest) parts.push('### Ingest (fresh stores)', '', ...ingestTables(r, r.ingest), '');
  if (r.sizes.length) parts.push(`### Log reads: \`POST /api/logs/filter\` at ${r.sizes.map((s) => fmtN(s.n)).join(' and ')} lines`, '', ...readTables(r), '');
  parts.push('### Targets (issue 14)', '', ...targets(r), '', END);
  return parts.join('\n');
}
