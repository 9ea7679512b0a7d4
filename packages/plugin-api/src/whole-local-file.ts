import { ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * The file behind `body` when it is an untouched stream of a whole local file
 * of exactly `size` bytes — core's spool file, for one. A plugin may then hand
 * the file to a faster path (smbclient reading it itself, a kernel-side copy)
 * instead of pumping it through Node; it must destroy `body` when it does.
 * Anything else (a stream already read from, a part of a file, a pipe) is
 * undefined and must be streamed.
 */
export async function wholeLocalFileOf(body: Readable, size: number): Promise<string | undefined> {
  if (!(body instanceof ReadStream) || typeof body.path !== 'string') return undefined;
  const { start, end } = body as unknown as { start?: number; end?: number };
  const whole =
    (start === undefined || start === 0) && (end === undefined || end === Number.POSITIVE_INFINITY);
  if (!whole || body.bytesRead !== 0 || body.readableFlowing === true) return undefined;
  const path = resolve(body.path);
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() && info.size === size ? path : undefined;
}
