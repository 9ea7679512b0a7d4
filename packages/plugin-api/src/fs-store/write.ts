import { createWriteStream } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeFolders } from '../folders.js';
import { placeFile } from '../place-file.js';
import type { PutOptions } from '../types.js';
import { fsError, isErrno } from './errno.js';
import { copySpoolFile, linkSpoolFile } from './place-spool.js';
import { freeBytes, spaceShortfall } from './space.js';

export const FOLDER_MODE = 0o700;
export const FILE_MODE = 0o600;

/**
 * Writes `body` to `target` atomically: `temp` (a temporary name in the same
 * folder, so the rename stays on one filesystem), fsynced, renamed over the
 * target (hard-linked to it with `ifAbsent`, so an existing target is refused,
 * never replaced), then the folder fsynced so the new name survives a crash. Before
 * a byte is written the free space is checked against the size (a linked spool file writes
 * none). On any failure
 * the temporary file is removed and an existing target is untouched.
 */
export async function writeAtomically(
  target: string,
  temp: string,
  body: Readable,
  options: PutOptions,
): Promise<void> {
  options.signal?.throwIfAborted();
  const folder = dirname(target);
  await makeFolders(folder, FOLDER_MODE).catch((error) => {
    throw fsError(error, 'create folder', folder);
  });
  // A kernel-side copy cannot be aborted: on abort (Ctrl-C) the temporary name goes at once, so
  // an interrupted process leaves nothing behind even if it exits before the copy ends.
  const dropTemp = () => {
    unlink(temp).catch(() => undefined);
  };
  options.signal?.addEventListener('abort', dropTemp, { once: true });
  try {
    await fill(temp, body, options);
    options.signal?.throwIfAborted();
    await placeFile(temp, target, { ifAbsent: options.ifAbsent });
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw fsError(error, 'write', target);
  } finally {
    options.signal?.removeEventListener('abort', dropTemp);
  }
  await syncFolder(folder);
}

/**
 * Writes the temporary file (0600, never an existing name, fsynced). The one place
 * that decides how bytes reach the disk. Core checks the size and sha256 of every body.
 */
async function fill(temp: string, body: Readable, options: PutOptions): Promise<void> {
  // The temporary file is beside its target: the free space that counts is that folder's.
  const folder = dirname(temp);
  if (options.sourcePath !== undefined) {
    // Core's spool file: linked, or copied without pumping every byte through a stream
    // (a kernel-side copy alone measured ~2x faster than the stream for a 558 MB shard).
    body.destroy();
    if (!(await linkSpoolFile(options.sourcePath, temp))) {
      await checkRoom(folder, options.size);
      await copySpoolFile(options.sourcePath, temp, options.signal);
    }
    options.onProgress?.(await syncFile(temp));
    return;
  }
  await checkRoom(folder, options.size);
  let written = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      written += chunk.length;
      options.onProgress?.(written);
      done(null, chunk);
    },
  });
  // `flush` fsyncs the file before its descriptor closes; `wx` never follows or reuses an existing name.
  const file = createWriteStream(temp, { flags: 'wx', mode: FILE_MODE, flush: true });
  await pipeline(body, count, file, { signal: options.signal });
}

async function checkRoom(folder: string, size: number): Promise<void> {
  const shortfall = spaceShortfall(size, await freeBytes(folder), folder);
  if (shortfall) throw shortfall;
}

/** fsyncs a linked or copied file, sets its mode (copyFile keeps the source's), and returns its size. */
async function syncFile(path: string): Promise<number> {
  const handle = await open(path, 'r+');
  try {
    await handle.chmod(FILE_MODE);
    await handle.sync();
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}

async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some network and FUSE filesystems (CIFS among them) cannot fsync a folder; the rename is then
    // as durable as they allow.
    if (!isErrno(error, 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EBADF', 'EISDIR')) throw error;
  } finally {
    await handle.close();
  }
}
