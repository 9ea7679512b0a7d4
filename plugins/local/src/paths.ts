import { basename, dirname, join } from 'node:path';
import { temporaryKey } from '@matric-backup/plugin-api';

/** Absolute path of a key; keys were validated by core (relative, no `..`, no backslash). */
export function keyPath(root: string, key: string): string {
  return join(root, ...key.split('/'));
}

/** The SDK's temporary name beside the final file, so the rename stays on one filesystem. */
export function tempPathFor(target: string): string {
  return join(dirname(target), temporaryKey(basename(target)));
}
