/**
 * The version of every JSON document the CLI, the API and mcp hand out (`--json`, `--json-lines`
 * events, API bodies, tool results). It changes only when a field is renamed, removed or changes
 * meaning; a new field is added without a bump (docs/cli.md, "JSON output").
 */
export const SCHEMA_VERSION = 1;

/** A document as published: `schema_version` first, then its own fields. */
export function versioned<T extends object>(value: T): { schema_version: typeof SCHEMA_VERSION } & T {
  return { schema_version: SCHEMA_VERSION, ...value };
}
