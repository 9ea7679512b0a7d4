import { createWriteStream } from 'node:fs';
import { mkdir, open, opendir, rename, rm, stat, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type CheckResult,
  type Destination,
  DestinationError,
  isDestinationError,
  type ObjectInfo,
  type PutOptions,
  parseTemporaryKey,
  type TemporaryObject,
  temporaryKey,
} from '@matric-backup/plugin-api';
import { pathSegments, type SmbConfig } from './config.js';
import { assertMounted } from './mount.js';

/**
 * The share through a filesystem mount (mount.cifs, fstab, autofs): files are
 * written like a local folder (temporary name, fsync, rename; 0600 files,
 * 0700 folders), and every operation first checks that the share is still
 * mounted at mount_point.
 */
export function createMountedDestination(config: SmbConfig): Destination {
  const mountPoint = config.mount_point!;
  const root = join(mountPoint, ...pathSegments(config.path));
  const fileOf = (key: string) => join(root, ...key.split('/'));
  const mapped = <T>(operation: string, key: string | undefined, run: () => Promise<T>) =>
    assertMounted(mountPoint)
      .then(run)
      .catch((error: unknown) => {
        throw fsError(
          error,
          `${operation}${key === undefined ? '' : ` ${JSON.stringify(key)}`} under ${root}`,
        );
      });

  return {
    localPath: root,
    put: (key: string, body: Readable, options: PutOptions) =>
      mapped('put', key, () => writeAtomically(fileOf(key), body, options)).catch((error: unknown) => {
        body.destroy();
        throw error;
      }),

    get: (key: string) =>
      mapped('get', key, async () => {
        const handle = await open(fileOf(key), 'r');
        if (!(await handle.stat()).isFile()) {
          await handle.close();
          throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
        }
        return handle.createReadStream({ highWaterMark: 1 << 20 }) as Readable;
      }),

    async *list(prefix = '') {
      await mapped('list', prefix, async () => {});
      const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const start = folder === '' ? '' : `${folder}/`;
      try {
        for await (const info of walk(join(root, ...folder.split('/').filter(Boolean)), start, false)) {
          if (info.key.startsWith(prefix)) yield info;
        }
      } catch (error) {
        throw fsError(error, `list ${JSON.stringify(prefix)} under ${root}`);
      }
    },

    async *listTemporary(): AsyncIterable<TemporaryObject> {
      await mapped('list temporary files', undefined, async () => {});
      try {
        for await (const info of walk(root, '', true))
          yield { ...info, name: info.key, key: parseTemporaryKey(info.key)!.key };
      } catch (error) {
        throw fsError(error, `list temporary files under ${root}`);
      }
    },

    stat: (key: string) =>
      mapped('stat', key, async (): Promise<ObjectInfo | undefined> => {
        const info = await stat(fileOf(key)).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
          throw error;
        });
        return info?.isFile() ? { key, size: info.size, modified: info.mtime } : undefined;
      }),

    delete: (key: string) =>
      mapped('delete', key, async () => {
        await unlink(fileOf(key)).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') throw error;
        });
      }),

    check: () =>
      mapped('check', undefined, async (): Promise<CheckResult> => {
        const mount = await assertMounted(mountPoint);
        await mkdir(root, { recursive: true, mode: 0o700 });
        const probe = join(root, temporaryKey('matric-check'));
        await (await open(probe, 'wx', 0o600)).close();
        await rm(probe, { force: true });
        const space = await statfs(root);
        const freeBytes = space.bavail * space.bsize;
        const what = mount.fsType ? `${mount.fsType} ${mount.source ?? ''}`.trim() : 'a filesystem';
        return {
          details: [
            `${mountPoint} is a mount point (${what})`,
            `${root} is writable`,
            `${(freeBytes / 1024 ** 3).toFixed(1)} GiB free`,
          ],
          freeBytes,
        };
      }),

    async close() {},
  };
}

async function writeAtomically(
  file: string,
  body: Readable,
  { size, signal, onProgress }: PutOptions,
): Promise<void> {
  const folder = join(file, '..');
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const temporary = join(folder, temporaryKey(file.slice(folder.length + 1)));
  let written = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      written += chunk.length;
      onProgress?.(written);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(body, counter, createWriteStream(temporary, { flags: 'wx', mode: 0o600 }), { signal });
    if (written !== size) {
      throw new DestinationError('INTEGRITY', `the stream had ${written} bytes, ${size} were announced`, {
        retryable: true,
      });
    }
    // On the share before the rename makes it visible (fsync applies to the file, whichever descriptor).
    const handle = await open(temporary, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Every stored file under `folder`, keys prefixed with `start`: objects, or with `temporary` only temporary files. */
async function* walk(folder: string, start: string, temporary: boolean): AsyncGenerator<ObjectInfo> {
  let entries: Awaited<ReturnType<typeof opendir>>;
  try {
    entries = await opendir(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw error;
  }
  for await (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* walk(path, `${start}${entry.name}/`, temporary);
    else if (entry.isFile() && (parseTemporaryKey(entry.name) !== undefined) === temporary) {
      const info = await stat(path).catch(() => undefined);
      if (info) yield { key: `${start}${entry.name}`, size: info.size, modified: info.mtime };
    }
  }
}

const CODES: Record<string, { code: DestinationError['code']; retryable: boolean }> = {
  ENOENT: { code: 'NOT_FOUND', retryable: false },
  ENOTDIR: { code: 'NOT_FOUND', retryable: false },
  EISDIR: { code: 'NOT_FOUND', retryable: false },
  EACCES: { code: 'PERMISSION_DENIED', retryable: false },
  EPERM: { code: 'PERMISSION_DENIED', retryable: false },
  EROFS: { code: 'PERMISSION_DENIED', retryable: false },
  ENOSPC: { code: 'NO_SPACE', retryable: false },
  EDQUOT: { code: 'NO_SPACE', retryable: false },
  // What the kernel's CIFS client returns while the server is away.
  EHOSTDOWN: { code: 'UNREACHABLE', retryable: true },
  EHOSTUNREACH: { code: 'UNREACHABLE', retryable: true },
  ENETUNREACH: { code: 'UNREACHABLE', retryable: true },
  ETIMEDOUT: { code: 'UNREACHABLE', retryable: true },
  ECONNREFUSED: { code: 'UNREACHABLE', retryable: true },
  ECONNRESET: { code: 'UNREACHABLE', retryable: true },
  ECONNABORTED: { code: 'UNREACHABLE', retryable: true },
};

function fsError(error: unknown, where: string): unknown {
  if (isDestinationError(error) || (error as Error)?.name === 'AbortError') return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  const mapped = code ? CODES[code] : undefined;
  if (!mapped) return error;
  return new DestinationError(mapped.code, `${where}: ${(error as Error).message}`, {
    cause: error,
    retryable: mapped.retryable,
  });
}
