import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Absolute path of a key; keys were validated by core (relative, no `..`, no backslash). */
export function keyPath(root: string, key: string): string {
  return join(root, ...key.split('/'));
}

/** `.<name>.tmp-<random>` beside the final file, so the rename stays on one filesystem. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${randomBytes(6).toString('hex')}`);
}

const TEMP_NAME = /^\..+\.tmp-[0-9a-f]{12}$/;

/** Our own in-flight (or crashed) writes, which list must never report as objects. */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/** The file name a temporary name was being written as (`.<name>.tmp-<random>` -> `<name>`). */
export function targetOfTempName(name: string): string {
  return name.slice(1, name.lastIndexOf('.tmp-'));
}
