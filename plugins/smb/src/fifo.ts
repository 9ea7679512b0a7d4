import { execFile } from 'node:child_process';
import { constants, open } from 'node:fs';
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const openFd = promisify(open);

/**
 * File data reaches a session's smbclient through a named pipe (`put <fifo>
 * ...`): its stdin carries the commands. A FIFO holds nothing on disk, so a
 * backup is never staged in a local temporary file.
 */
export async function makeFifo(path: string): Promise<void> {
  await promisify(execFile)('mkfifo', ['-m', '600', '--', path]);
}

/**
 * The writing end of the FIFO, once smbclient opened it for reading. A
 * non-blocking open fails with ENXIO while there is no reader; a blocking one
 * would hang forever if smbclient never gets that far (say the remote file
 * could not be created), so it is polled until `settled` says the command is over.
 */
export async function openFifoWriter(path: string, settled: () => boolean): Promise<Socket | undefined> {
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    try {
      const fd = await openFd(path, constants.O_WRONLY | constants.O_NONBLOCK);
      // libuv drives a non-blocking pipe with backpressure, as it does for process.stdout.
      return new Socket({ fd, readable: false, writable: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
    }
    if (settled()) return undefined;
    await sleep(delay);
  }
}
