/**
 * A small parser of the Prometheus text exposition format (0.0.4), strict enough to catch a
 * malformed line: every sample must belong to a family announced by `# TYPE`, label values must
 * be properly quoted and escaped, and values must be numbers.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\["\\n])*)"\s*(,|$)/y;

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (!m) throw new Error(`bad labels: {${text}}`);
    labels[m[1]] = m[2].replace(/\\(["\\n])/g, (_, c) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const familyOf = (name: string) => {
    for (const suffix of ['', '_bucket', '_sum', '_count', '_total']) {
      if (suffix !== '' && !name.endsWith(suffix)) continue;
      const base = name.slice(0, name.length - suffix.length);
      if (families.has(base)) return families.get(base)!;
      if (families.has(name)) return families.get(name)!;
    }
    return undefined;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (help) {
      families.set(help[1], { type: '', help: help[2], samples: [] });
    } else if (type) {
      const family = families.get(type[1]);
      if (!family) throw new Error(`TYPE before HELP: ${line}`);
      family.type = type[2];
    } else {
      const m = SAMPLE.exec(line);
      if (!m) throw new Error(`bad line: ${line}`);
      const value = m[4] === '+Inf' ? Infinity : Number(m[4]);
      if (Number.isNaN(value)) throw new Error(`bad value: ${line}`);
      const family = familyOf(m[1]);
      if (!family || family.type === '') throw new Error(`sample of an undeclared family: ${line}`);
      family.samples.push({ name: m[1], labels: m[3] ? parseLabels(m[3]) : {}, value });
    }
  }
  return families;
}

/** The one sample of `family` whose labels include `labels`, or undefined. */
export function sample(families: Map<string, Family>, family: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = families
    .get(family)
    ?.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (!found || found.length === 0) return undefined;
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0].value;
}
