/**
 * The keys whose string values are messages (free text that may quote a
 * server's reply or a command's stderr); every other value is data.
 */
const MESSAGE_KEYS = new Set([
  'message',
  'hint',
  'error',
  'warnings',
  'details',
  'reason',
  'reasons',
  'problems',
]);

/**
 * A copy of `value` (a --json document, a notification payload) with `mask`
 * applied to the messages in it and nothing else: ids, object keys, paths,
 * names and numbers are data a script feeds back, so they are never rewritten.
 * `extraKeys` names more message keys (a webhook's `text`).
 */
export function maskMessages<T>(
  value: T,
  mask: (text: string) => string,
  extraKeys: readonly string[] = [],
): T {
  const keys = extraKeys.length ? new Set([...MESSAGE_KEYS, ...extraKeys]) : MESSAGE_KEYS;
  const walk = (node: unknown, isMessage: boolean): unknown => {
    if (typeof node === 'string') return isMessage ? mask(node) : node;
    if (Array.isArray(node)) return node.map((item) => walk(item, isMessage));
    if (node === null || typeof node !== 'object') return node;
    // A string in a message list is a message; in an object, each key decides for its value.
    return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, keys.has(key))]));
  };
  if (value === undefined) return value;
  // The document as JSON.stringify writes it (toJSON, Dates), then masked field by field.
  return walk(JSON.parse(JSON.stringify(value)), false) as T;
}
