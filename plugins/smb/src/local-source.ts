import { ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * The file behind `body` when it is an untouched stream of a whole local file
 * of exactly `size` bytes — core's spool file, for one. smbclient then reads
 * that file itself, about twice as fast as through a pipe from Node
 * (measured: ~250-340 MB/s against ~100-150 MB/s on loopback). Anything
 * else (a stream already read from, a part of a file, a pipe) is streamed.
 */
export async function localFileOf(body: Readable, size: number): Promise<string | undefined> {
  if (!(body instanceof ReadStream) || typeof body.path !== 'string') return undefined;
  const { start, end } = body as unknown as { start?: number; end?: number };
  const whole =
    (start === undefined || start === 0) && (end === undefined || end === Number.POSITIVE_INFINITY);
  if (!whole || body.bytesRead !== 0 || body.readableFlowing === true) return undefined;
  const path = resolve(body.path);
  // smbclient's command line cannot carry these (see names.ts).
  if (/["\n;]/.test(path)) return undefined;
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() && info.size === size ? path : undefined;
}
