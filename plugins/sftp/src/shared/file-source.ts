import type { Readable } from 'node:stream';
import { wholeLocalFileOf } from '@matric-backup/plugin-api';

/**
 * Core uploads from its spool file with a plain `fs.createReadStream(path)`. When
 * the body is such an untouched stream, the plugin reads the file itself (rsync
 * needs a file; sftp reads it into a few reused buffers instead of a stream of
 * fresh ones). Returns the absolute path and destroys the now unused stream;
 * undefined for any other body.
 */
export async function takeWholeFile(body: Readable, size: number): Promise<string | undefined> {
  const path = await wholeLocalFileOf(body, size);
  if (path) body.destroy();
  return path;
}
