/**
 * rsync's receiver writes each file as `.<name>.XXXXXX` (6 letters or digits)
 * beside its final name and renames it when complete; a receiver killed with
 * the connection leaves it behind. Our own probe and any SDK temporary name are
 * recognised by the SDK's parseTemporaryKey; this is rsync's own scheme. A key
 * whose last segment itself looks like one is therefore not listed.
 */
const RSYNC_TEMPORARY = /^\.(.+)\.[A-Za-z0-9]{6}$/s;

/** `{ key }` (the key being received) when `name`, a last key segment, is an rsync receiver temporary. */
export function parseRsyncTemporary(name: string): { key: string } | undefined {
  const match = RSYNC_TEMPORARY.exec(name);
  return match ? { key: match[1]! } : undefined;
}
