import type { Readable } from 'node:stream';
import type { PutOptions } from '@matric-backup/plugin-api';

/**
 * When core passes the file behind the body (its spool file), the plugin reads
 * that file itself (rsync needs a file; sftp reads it into a few reused buffers
 * instead of a stream of fresh ones). Returns the path and destroys the now
 * unused stream; undefined when there is no such file.
 */
export function takeWholeFile(body: Readable, options: PutOptions): string | undefined {
  if (options.sourcePath !== undefined) body.destroy();
  return options.sourcePath;
}
