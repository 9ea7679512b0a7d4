import { ConfigError, type ConfigIssue } from '@matric-backup/plugin-api';
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

type PathSegment = string | number;
export type ConfigPath = readonly PathSegment[];

/** `backup.destinations[1].bucket`, the way a user reads the file. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}

/**
 * The parsed YAML document, kept next to the plain data so that any key path can
 * be traced back to a line and column, however the data was transformed later.
 */
export class ConfigSource {
  readonly issues = new IssueList(this);
  /** Paths whose value now lives under another key (a secret read from `K_file` sits at `K`). */
  private readonly aliases = new Map<string, ConfigPath>();

  private constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lineCounter: LineCounter,
  ) {}

  /** Throws ConfigError with line and column on a YAML syntax error. */
  static parse(text: string, file: string): ConfigSource {
    const lineCounter = new LineCounter();
    // prettyErrors would quote the offending source line, which may hold a secret.
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(
        doc.errors.map((error) => {
          const { line, col } = lineCounter.linePos(error.pos[0]);
          return { path: '', message: `YAML syntax error: ${error.message}`, line, column: col };
        }),
        file,
      );
    }
    return new ConfigSource(file, doc, lineCounter);
  }

  /** A copy of the document to transform (see expandEnv); this one stays as the file was read. */
  copyDocument(): Document {
    return this.doc.clone();
  }

  alias(path: ConfigPath, writtenAt: ConfigPath): void {
    this.aliases.set(formatPath(path), writtenAt);
  }

  /**
   * `backup.destinations[nas].path`, the key path as a user finds it: a list item by its `name`
   * when it has one that no other item of the list shares, else by its index.
   */
  displayPath(path: ConfigPath): string {
    let out = '';
    for (const [at, segment] of path.entries()) {
      if (typeof segment === 'number') out += `[${this.itemName(path.slice(0, at), segment) ?? segment}]`;
      else out += out ? `.${segment}` : segment;
    }
    return out;
  }

  private itemName(listPath: ConfigPath, index: number): string | undefined {
    const list = this.doc.getIn(listPath, true);
    if (!isSeq(list)) return undefined;
    const nameOf = (item: unknown): unknown => (isMap(item) ? item.get('name') : undefined);
    const name = nameOf(list.items[index]);
    if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) return undefined;
    return list.items.filter((item) => nameOf(item) === name).length === 1 ? name : undefined;
  }

  /**
   * Line and column of the key at `path` (of the item, in a list). A path that
   * does not exist, such as a missing key, gives the deepest enclosing node that does.
   */
  positionOf(path: ConfigPath): { line: number; column: number } {
    const target = this.aliases.get(formatPath(path)) ?? path;
    let node: unknown = this.doc.contents;
    let offset = (node as Node | null)?.range?.[0] ?? 0;
    for (const segment of target) {
      if (isAlias(node)) node = node.resolve(this.doc);
      let next: { at?: unknown; value: unknown } | undefined;
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isScalar(item.key) && String(item.key.value) === String(segment),
        );
        if (pair) next = { at: pair.key, value: pair.value };
      } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
        next = { at: node.items[segment], value: node.items[segment] };
      }
      if (!next) break;
      offset = (next.at as Node | undefined)?.range?.[0] ?? offset;
      node = next.value;
    }
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }
}

/**
 * Every problem found in one pass, one per key path: a key whose value could not
 * be produced (unset variable, unreadable secret file) is not also reported by
 * the schema as missing.
 */
class IssueList {
  private readonly list: ConfigIssue[] = [];
  private readonly covered = new Set<string>();

  constructor(private readonly source: ConfigSource) {}

  add(path: ConfigPath, message: string, alsoCovers: ConfigPath[] = []): void {
    const key = formatPath(path);
    if (this.covered.has(key)) return;
    this.covered.add(key);
    for (const other of alsoCovers) this.covered.add(formatPath(other));
    this.list.push({ path: this.source.displayPath(path), message, ...this.source.positionOf(path) });
  }

  get length(): number {
    return this.list.length;
  }

  /** In file order, the way an editor shows them. */
  sorted(): ConfigIssue[] {
    return [...this.list].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  }
}
