import { chmod, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { MatricError, makeFolders } from '@matric-backup/core';
import type { FastifyInstance } from 'fastify';

/** Owner and group may connect; the token decides what they may do. */
const SOCKET_MODE = 0o660;

/**
 * Listens on the unix socket: a socket file left by a process that is gone is
 * replaced; one that still answers belongs to a running daemon and is an error.
 */
export async function listenOnSocket(app: FastifyInstance, path: string): Promise<void> {
  await makeFolders(dirname(path), 0o750);
  if (await answers(path)) {
    throw new MatricError('USAGE', `another process is serving on ${path}`, {
      hint: 'stop that `matric-backup serve` first, or set backup.api.socket to another path',
    });
  }
  await rm(path, { force: true });
  await app.listen({ path });
  await chmod(path, SOCKET_MODE);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
