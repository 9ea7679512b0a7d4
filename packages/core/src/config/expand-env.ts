import { isAlias, isMap, isScalar, isSeq, parse, Scalar } from 'yaml';
import { type ConfigPath, type ConfigSource, formatPath } from './source.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// `$${` is a literal `${`; `${...}` a reference, possibly unterminated.
const TOKEN = /\$\$\{|\$\{([^}]*)(\})?/g;

export interface ExpandedConfig {
  /** The file's values as plain data, every reference expanded. */
  data: unknown;
  /** Key path -> the variables its value came from, so a type error there can name them. */
  expanded: Map<string, string[]>;
}

/**
 * Expands `${VAR}` and `${VAR:-default}` (default when unset or empty) in every
 * string value of the file and returns the result as plain data. It works on the
 * YAML document rather than the data because an unquoted value takes the type its
 * expansion would have had if written in the file (`port: ${PORT}` is a number),
 * and only the document knows which values were quoted. A malformed reference or
 * an unset variable is an issue at its key.
 */
export function expandEnv(source: ConfigSource, env: NodeJS.ProcessEnv): ExpandedConfig {
  const doc = source.copyDocument();
  const expanded = new Map<string, string[]>();
  // A value behind an anchor is expanded once, however many aliases reach it.
  const seen = new Set<unknown>();

  const visit = (raw: unknown, path: ConfigPath): void => {
    const node = isAlias(raw) ? raw.resolve(doc) : raw;
    if (seen.has(node)) return;
    seen.add(node);
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '?';
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) visit(item, [...path, index]);
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      const result = expandString(node.value, env);
      if (result.error) {
        source.issues.add(path, result.error);
        return;
      }
      if (result.names.length === 0 && result.value === node.value) return;
      node.value = node.type === Scalar.PLAIN ? retype(result.value) : result.value;
      if (result.names.length > 0) expanded.set(formatPath(path), result.names);
    }
  };

  visit(doc.contents, []);
  return { data: doc.toJS(), expanded };
}

function expandString(
  text: string,
  env: NodeJS.ProcessEnv,
): { value: string; names: string[]; error?: string } {
  const names: string[] = [];
  let error: string | undefined;
  const value = text.replace(TOKEN, (token, body: string | undefined, closed: string | undefined) => {
    if (token === '$${') return '${';
    if (closed === undefined) {
      error ??= 'unterminated ${ (write $${ for a literal ${)';
      return token;
    }
    const inner = body ?? '';
    const separator = inner.indexOf(':-');
    const name = separator === -1 ? inner : inner.slice(0, separator);
    if (!NAME.test(name)) {
      error ??= `invalid variable reference: use \${NAME} or \${NAME:-default} (write $\${ for a literal \${)`;
      return token;
    }
    names.push(name);
    const set = env[name];
    if (set !== undefined && set !== '') return set;
    if (separator !== -1) return inner.slice(separator + 2);
    if (set === undefined) {
      error ??= `environment variable ${name} is not set: set it (export ${name}=...) before running, or give a default with \${${name}:-default}`;
    }
    return '';
  });
  return { value, names, error };
}

/** What the string would have been as a plain YAML scalar: a number or boolean, else itself. */
function retype(value: string): unknown {
  if (value.trim() === '') return value;
  try {
    const typed: unknown = parse(value);
    return typeof typed === 'number' || typeof typed === 'boolean' ? typed : value;
  } catch {
    return value;
  }
}
