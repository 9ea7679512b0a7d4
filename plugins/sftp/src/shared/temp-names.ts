import { randomBytes } from 'node:crypto';

/**
 * Uploads go to a hidden temporary name in the key's folder, renamed into place
 * when complete. sftp names them `.<name>.tmp-<12 hex>`; rsync's receiver uses
 * `.<name>.<6 letters/digits>`. `list` hides both, so a key whose last segment
 * itself looks like one of these is not listed.
 */

const SFTP_TEMP = /^\..+\.tmp-[0-9a-f]{12}$/;
const RSYNC_TEMP = /^\..+\.[A-Za-z0-9]{6}$/;

/** A temp left behind by a crashed upload is removed by a later upload into its folder once this old. */
export const STALE_TEMP_AGE_MS = 24 * 60 * 60 * 1000;

export function tempNameFor(name: string): string {
  return `.${name}.tmp-${randomBytes(6).toString('hex')}`;
}

export function isTempName(name: string): boolean {
  return SFTP_TEMP.test(name) || RSYNC_TEMP.test(name);
}
