/**
 * Results of core and of the operations in the API's snake_case: `durationMs`
 * becomes `duration_ms`, at every depth. Only keys in camelCase change (manifest
 * fields already are snake_case); records keyed by a destination or source name
 * are kept as they are by listing those keys in `keep`.
 */
export function snakeCase(value: unknown, keep: ReadonlySet<string> = NAME_KEYED): unknown {
  if (Array.isArray(value)) return value.map((item) => snakeCase(item, keep));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [toSnake(key), keep.has(key) ? item : snakeCase(item, keep)]),
  );
}

/** Records whose keys are names the user chose (a destination named `offsiteCopy` stays so). */
const NAME_KEYED = new Set(['pruned', 'keys']);

function toSnake(key: string): string {
  return /^[a-z][a-z0-9]*([A-Z][a-z0-9]*)+$/.test(key)
    ? key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)
    : key;
}
