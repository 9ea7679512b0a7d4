/** One sample line of the Prometheus text format: `name{label="value",...} value`. */
interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromText {
  /** `# TYPE` of each family. */
  types: Map<string, string>;
  samples: PromSample[];
  /** The samples of `name` whose labels include `labels`. */
  find(name: string, labels?: Record<string, string>): PromSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;

/**
 * A strict parser of the Prometheus text exposition format (0.0.4): every line must be a comment,
 * a `# HELP`/`# TYPE` line or a well-formed sample, or it throws naming the line. Tests parse what
 * `/metrics` serves with it instead of matching strings.
 */
export function parsePromText(text: string): PromText {
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  text.split('\n').forEach((line, index) => {
    if (line === '') return;
    const failure = () => new Error(`line ${index + 1} is not Prometheus text format: ${line}`);
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (meta?.[1] === 'TYPE') {
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(meta[3]!)) throw failure();
        types.set(meta[2]!, meta[3]!);
      }
      return;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw failure();
    const labels: Record<string, string> = {};
    const body = match[2] ?? '';
    LABEL.lastIndex = 0;
    let consumed = 0;
    for (let label = LABEL.exec(body); label; label = LABEL.exec(body)) {
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
      consumed = LABEL.lastIndex;
    }
    if (consumed !== body.length) throw failure();
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    if (Number.isNaN(value) && match[3] !== 'NaN') throw failure();
    samples.push({ name: match[1]!, labels, value });
  });
  return {
    types,
    samples,
    find: (name, wanted = {}) =>
      samples.filter(
        (sample) =>
          sample.name === name &&
          Object.entries(wanted).every(([key, value]) => sample.labels[key] === value),
      ),
  };
}
