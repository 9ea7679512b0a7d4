import { ReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Core uploads from its spool file with a plain `fs.createReadStream(path)`. When
 * the body is such a stream and nothing has been read from it yet, the plugin may
 * read the file itself (rsync needs a file; sftp reads it into a few reused
 * buffers instead of a stream of fresh ones). Returns the absolute path and
 * destroys the now unused stream; undefined for any other body.
 */
export function takeFilePath(body: Readable): string | undefined {
  if (!(body instanceof ReadStream) || typeof body.path !== 'string') return undefined;
  const range = body as unknown as { start?: number; end?: number; bytesRead: number };
  const untouched =
    range.bytesRead === 0 &&
    !body.readableDidRead &&
    (range.start ?? 0) === 0 &&
    (range.end ?? Number.POSITIVE_INFINITY) === Number.POSITIVE_INFINITY;
  if (!untouched) return undefined;
  body.destroy();
  return resolve(body.path);
}
