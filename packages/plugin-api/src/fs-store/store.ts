import { lstat, open, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { DestinationError } from '../errors.js';
import { makeFolders } from '../folders.js';
import { assertMounted, type MountInfo } from '../mount.js';
import { parseTemporaryKey, temporaryKey } from '../temporary-keys.js';
import type { CheckResult, Destination, ObjectInfo } from '../types.js';
import { fsError, isErrno } from './errno.js';
import { formatBytes, freeBytes } from './space.js';
import { walkKeys } from './walk.js';
import { FILE_MODE, FOLDER_MODE, writeAtomically } from './write.js';

export interface FsStoreOptions {
  /** Absolute folder the objects are stored in; created (0700) by the first put or check. */
  root: string;
  /**
   * Where the filesystem holding `root` must be mounted (a USB disk, a CIFS or NFS
   * mount). Every operation first checks that something is mounted there and
   * otherwise fails with CONFIG, not retried, instead of writing onto the disk
   * underneath; `hint` tells the user how to mount it.
   */
  mount?: { point: string; hint: string };
}

/**
 * A Destination over a folder of a mounted filesystem: each key is a plain file
 * at its path below `root` (folders 0700, files 0600). put writes a temporary
 * file beside the target (see temporary-keys.ts), fsyncs it, renames it into
 * place and fsyncs the folder. list walks the folders in name order and never
 * yields folders, symlinks or temporary files. Errnos become DestinationError
 * codes in one table (errno.ts). Nothing is held open between calls.
 */
export function createFsStore({ root, mount }: FsStoreOptions): Destination {
  const mounted = async (): Promise<MountInfo | undefined> =>
    mount === undefined ? undefined : assertMounted(mount.point, mount.hint);
  const pathOf = (key: string) => join(root, ...key.split('/'));

  return {
    localPath: root,

    async put(key, body, options) {
      try {
        await mounted();
        await writeAtomically(pathOf(key), pathOf(temporaryKey(key)), body, options);
      } catch (error) {
        body.destroy();
        throw error;
      }
    },

    async get(key, options): Promise<Readable> {
      await mounted();
      const path = pathOf(key);
      const file = await open(path, 'r').catch((error) => {
        throw isErrno(error, 'ENOTDIR') ? notFound(key, path) : fsError(error, 'read', path);
      });
      if (!(await file.stat()).isFile()) {
        await file.close();
        throw notFound(key, path);
      }
      // 1 MiB reads: with the default 64 KiB, restore spent ~1 s of a 558 MB shard waiting on reads.
      const stream = file.createReadStream({ highWaterMark: 1 << 20 });
      return options?.signal ? addAbortSignal(options.signal, stream) : stream;
    },

    async *list(prefix = '', options) {
      await mounted();
      try {
        for await (const { key, path } of walkKeys(root, prefix)) {
          // A walk over a slow or hung mount stops between entries once the run is interrupted.
          options?.signal?.throwIfAborted();
          // A file removed between readdir and stat is simply no longer listed.
          const info = await fileInfo(key, path);
          if (info) yield info;
        }
      } catch (error) {
        if ((error as Error).name === 'AbortError') throw error;
        // A folder below the root that cannot be read names itself.
        throw fsError(error, 'list', (error as NodeJS.ErrnoException).path ?? root);
      }
    },

    async stat(key) {
      await mounted();
      return fileInfo(key, pathOf(key));
    },

    async *listTemporary() {
      await mounted();
      try {
        for await (const { key: name, path } of walkKeys(root, '', { temporary: true })) {
          const info = await fileInfo(name, path);
          if (info) yield { ...info, name, key: parseTemporaryKey(name)!.key };
        }
      } catch (error) {
        throw fsError(error, 'list', (error as NodeJS.ErrnoException).path ?? root);
      }
    },

    async delete(key) {
      await mounted();
      const path = pathOf(key);
      await unlink(path).catch((error) => {
        // Absent, or a folder rather than an object: nothing to delete.
        if (!isErrno(error, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw fsError(error, 'delete', path);
      });
    },

    async check(): Promise<CheckResult> {
      const mountInfo = await mounted();
      const created = await makeFolders(root, FOLDER_MODE).catch((error) => {
        throw fsError(error, 'create folder', root);
      });
      const probe = pathOf(temporaryKey('check-probe'));
      await writeFile(probe, 'matric-backup check\n', { mode: FILE_MODE, flag: 'wx' }).catch((error) => {
        throw fsError(error, 'write probe file in', root);
      });
      await rm(probe, { force: true });
      const free = await freeBytes(root);
      return {
        details: [
          ...(mount && mountInfo ? [describeMount(mount.point, mountInfo)] : []),
          created ? `created folder ${root}` : `folder ${root} exists`,
          'writable (wrote and removed a probe file)',
          ...(free === undefined ? [] : [`${formatBytes(free)} free`]),
        ],
        freeBytes: free,
      };
    },

    close: async () => undefined,
  };
}

/** The file behind a key, or undefined when there is none (absent, a folder, a symlink: list skips those too). */
async function fileInfo(key: string, path: string): Promise<ObjectInfo | undefined> {
  try {
    const stats = await lstat(path);
    return stats.isFile() ? { key, size: stats.size, modified: stats.mtime } : undefined;
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return undefined;
    throw fsError(error, 'stat', path);
  }
}

function describeMount(point: string, info: MountInfo): string {
  return `${point} is a mount point (${info.fsType ?? 'a filesystem'} ${info.source ?? ''})`.trimEnd();
}

function notFound(key: string, path: string): DestinationError {
  return new DestinationError('NOT_FOUND', `no object ${JSON.stringify(key)} (${path})`, {
    retryable: false,
  });
}
