/**
 * The server's log: one line per request (method, path, status, duration) plus start-up,
 * shutdown and error lines, as text or JSON, filtered by level. Debug and info go to stdout,
 * warnings and errors to stderr.
 *
 * Request lines are the hot path (tens of thousands a second): they are appended to a string
 * and written in one piece when it passes 64 KiB or 50 ms after the first pending line, never
 * with a write per request. Everything else is written at once, after any pending request lines,
 * so the order of lines is kept. `flush()` before exit writes what is pending.
 */

const LEVELS = ['debug', 'info', 'warning', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];
export type LogFormat = 'text' | 'json';
export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
}

/** Python's level names as Prefect's settings take them (any case; `warn`, `critical` too). */
export function parseLogLevel(text: string): LogLevel | undefined {
  const name = text.trim().toLowerCase();
  if (name === 'warn') return 'warning';
  if (name === 'critical' || name === 'fatal') return 'error';
  return (LEVELS as readonly string[]).includes(name) ? (name as LogLevel) : undefined;
}

/** Where lines go; the default writes to the process's stdout and stderr. */
export interface LogOutput {
  out(text: string): void;
  err(text: string): void;
  /** Resolves once everything written so far has been handed to the OS. */
  drain(): Promise<void>;
}

export function processOutput(): LogOutput {
  const stdout = streamOutput(process.stdout);
  const stderr = streamOutput(process.stderr);
  return {
    out: stdout.write,
    err: stderr.write,
    async drain() {
      await Promise.all([stdout.drain(), stderr.drain()]);
    },
  };
}

/**
 * Through `console`, one call per line group: what an app gets without a logger of its own
 * (tests), so harnesses that capture `console.error` still see a 500's reason.
 */
export function consoleOutput(): LogOutput {
  return {
    out: (text) => console.log(text.replace(/\n$/, '')),
    err: (text) => console.error(text.replace(/\n$/, '')),
    drain: async () => {},
  };
}

/**
 * Writes to a process stream without ever failing the server: a closed pipe (the log reader went
 * away, `| head`) is reported as an 'error' event, after which that stream is dropped. (A Bun
 * FileSink cannot be used here: its EPIPE arrives as an uncaught error that ends the process.)
 */
function streamOutput(stream: NodeJS.WriteStream) {
  let broken = false;
  stream.on('error', () => void (broken = true));
  return {
    write(text: string) {
      if (!broken) stream.write(text);
    },
    drain(): Promise<void> {
      return broken ? Promise.resolve() : new Promise((resolve) => stream.write('', () => resolve()));
    },
  };
}

export interface Logger {
  /** True when request lines are written (level info or debug): the app skips the work otherwise. */
  readonly logsRequests: boolean;
  request(method: string, path: string, status: number, durationMs: number): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warning(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** An info line written whatever the level: where the server listens, that it stops. */
  announce(message: string, fields?: Record<string, unknown>): void;
  /** Writes pending request lines now and waits until the output has taken everything. */
  flush(): Promise<void>;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };
const TEXT_LEVEL: Record<LogLevel, string> = { debug: 'DEBUG', info: 'INFO ', warning: 'WARN ', error: 'ERROR' };

/** Pending request lines are written once they reach this size … */
const FLUSH_BYTES = 64 * 1024;
/** … or this long after the first of them. */
const FLUSH_MS = 50;

/** Control characters would break a text line; such a path is printed JSON-quoted instead. */
const CONTROL = /[\u0000-\u001f\u007f]/;

export function createLogger(settings: LogSettings, output: LogOutput = processOutput()): Logger {
  const threshold = RANK[settings.level];
  const json = settings.format === 'json';

  // An ISO timestamp per request would cost a Date and a format; requests within the same
  // millisecond share one.
  let stampMs = -1;
  let stamp = '';
  const now = () => {
    const ms = Date.now();
    if (ms !== stampMs) {
      stampMs = ms;
      stamp = new Date(ms).toISOString();
    }
    return stamp;
  };

  let pending = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const writePending = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending === '') return;
    const text = pending;
    pending = '';
    output.out(text);
  };

  const line = (level: LogLevel, message: string, fields?: Record<string, unknown>): string => {
    if (json) return `${JSON.stringify({ time: now(), level, message, ...fields })}\n`;
    let text = `${now()} ${TEXT_LEVEL[level]} ${message}`;
    if (fields) {
      for (const [name, value] of Object.entries(fields)) {
        if (value === undefined) continue;
        const shown = typeof value === 'string' ? value : JSON.stringify(value);
        text += `\n  ${name}: ${shown.replaceAll('\n', '\n  ')}`;
      }
    }
    return `${text}\n`;
  };
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    writePending(); // keep lines in order
    const text = line(level, message, fields);
    if (RANK[level] >= RANK.warning) output.err(text);
    else output.out(text);
  };
  const at = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (RANK[level] >= threshold) write(level, message, fields);
  };

  return {
    logsRequests: threshold <= RANK.info,
    request(method, path, status, durationMs) {
      if (threshold > RANK.info) return;
      const ms = Math.round(durationMs * 100) / 100;
      if (json) {
        pending += `{"time":"${now()}","level":"info","method":${JSON.stringify(method)},"path":${JSON.stringify(path)},"status":${status},"duration_ms":${ms}}\n`;
      } else {
        const shown = CONTROL.test(path) ? JSON.stringify(path) : path;
        pending += `${now()} INFO  ${method} ${shown} ${status} ${ms.toFixed(2)}ms\n`;
      }
      if (pending.length >= FLUSH_BYTES) writePending();
      else timer ??= setTimeout(writePending, FLUSH_MS);
    },
    debug: at('debug'),
    info: at('info'),
    warning: at('warning'),
    error: at('error'),
    announce: (message, fields) => write('info', message, fields),
    async flush() {
      writePending();
      await output.drain();
    },
  };
}

/**
 * The logger of an app or server started without one (tests): warnings and errors only, through
 * `console` (see consoleOutput), so a 500's reason still shows.
 */
export function warningsLogger(format: LogFormat = 'text'): Logger {
  return createLogger({ level: 'warning', format }, consoleOutput());
}

/** A logger that writes nothing (tests drive the app without a log). */
export const silentLogger: Logger = {
  logsRequests: false,
  request() {},
  debug() {},
  info() {},
  warning() {},
  error() {},
  announce() {},
  flush: async () => {},
};
