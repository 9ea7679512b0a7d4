import type { z } from 'zod';
import { closestName } from '../util/did-you-mean.js';
import { type ConfigPath, type ConfigSource, formatPath } from './source.js';

export interface ReportContext {
  source: ConfigSource;
  /** Where the validated value sits in the file, e.g. ['backup', 'destinations', 1]. */
  prefix: ConfigPath;
  /** The value that was validated, to tell a missing key from a wrong one. */
  data: unknown;
  /** Paths whose value came from `${VAR}`, from expandEnv. */
  expanded?: Map<string, string[]>;
  /** The schema that was applied, for "did you mean" on an unknown key (a plugin's may be any zod). */
  schema?: unknown;
  /** Keys accepted at the top of `data` besides the schema's own (a destination's common keys). */
  otherKeys?: readonly string[];
}

/** Adds zod's issues to the source's issue list in the file's words: key paths, lines, YAML type names. */
export function reportZodIssues(
  error: { issues: readonly z.core.$ZodIssue[] },
  context: ReportContext,
): void {
  for (const issue of error.issues) {
    const relative = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
    const path = [...context.prefix, ...relative];
    if (issue.code === 'unrecognized_keys') {
      const known = [
        ...keysAt(context.schema, relative),
        ...(relative.length === 0 ? (context.otherKeys ?? []) : []),
      ];
      for (const key of issue.keys) {
        const meant = closestName(key, known);
        context.source.issues.add(
          [...path, key],
          `unknown key "${key}"${meant === undefined ? '' : `; did you mean "${meant}"?`}`,
        );
      }
      continue;
    }
    const value = valueAt(context.data, relative);
    const names = context.expanded?.get(formatPath(path));
    context.source.issues.add(path, describe(issue, value) + (names ? fromEnv(names, value) : ''));
  }
}

function describe(issue: z.core.$ZodIssue, value: unknown): string {
  const missing = value === undefined;
  switch (issue.code) {
    case 'invalid_type':
      return missing
        ? `required key missing (expected ${typeName(issue.expected)})`
        : `expected ${typeName(issue.expected)}, found ${kindOf(value)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((option) => JSON.stringify(option)).join(', ')}`;
    case 'invalid_union': {
      if ('options' in issue && Array.isArray(issue.options)) {
        const options = issue.options.map((option) => JSON.stringify(option)).join(', ');
        return missing ? `required key missing (one of ${options})` : `must be one of ${options}`;
      }
      const expected = [
        ...new Set(
          issue.errors.flat().flatMap((inner) => (inner.code === 'invalid_type' ? [inner.expected] : [])),
        ),
      ];
      if (expected.length > 0)
        return `expected ${expected.map(typeName).join(' or ')}, found ${kindOf(value)}`;
      return issue.message;
    }
    default:
      return issue.message;
  }
}

function fromEnv(names: string[], value: unknown): string {
  const quote = typeof value === 'string' ? '' : '; quote it to keep it a string';
  return ` (the value came from ${names.map((name) => `\${${name}}`).join(', ')}${quote})`;
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

function typeName(expected: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

function kindOf(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  if (typeof value === 'boolean') return `${value}`;
  return typeof value;
}

/** The keys an object schema accepts at `path` inside `schema` (through lists, optionals, defaults, pipes). */
function keysAt(schema: unknown, path: readonly (string | number)[]): string[] {
  let node = defOf(schema);
  let rest = [...path];
  for (let guard = 0; node && guard < 100; guard++) {
    if (node.type === 'object' && node.shape) {
      if (rest.length === 0) return Object.keys(node.shape);
      node = defOf(node.shape[String(rest[0])]);
      rest = rest.slice(1);
    } else if (node.type === 'array' && node.element) {
      node = defOf(node.element);
      rest = rest.slice(1);
    } else if (node.type === 'record' && node.valueType) {
      node = defOf(node.valueType);
      rest = rest.slice(1);
    } else {
      node = defOf(node.innerType ?? node.in);
    }
  }
  return [];
}

/** Zod 4's definition of a schema; undefined for anything else (a plugin on another zod gets no suggestion). */
function defOf(schema: unknown): SchemaDef | undefined {
  return (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;
}

/** The parts of zod's schema definitions that keysAt walks. */
interface SchemaDef {
  type: string;
  shape?: Record<string, unknown>;
  element?: unknown;
  valueType?: unknown;
  innerType?: unknown;
  in?: unknown;
}
