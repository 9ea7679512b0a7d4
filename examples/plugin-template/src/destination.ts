import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, opendir, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type CheckResult,
  type Destination,
  DestinationError,
  type ObjectInfo,
  type PutOptions,
  parseTemporaryKey,
  placeFile,
  temporaryKey,
} from '@matric-backup/plugin-api';
import { storeError } from './errors.js';

/**
 * A Destination over a folder: each key is a file below `root`. The calls to
 * replace with your store's are the fs ones; the rules stay: put is atomic
 * (the SDK's temporary name, renamed when complete; with `ifAbsent` never over an
 * existing key), get of a missing key is NOT_FOUND, list skips temporaries,
 * delete is idempotent.
 */
export function createFolderDestination(root: string): Destination {
  const fileOf = (key: string) => join(root, ...key.split('/'));

  return {
    async put(key: string, body: Readable, options: PutOptions): Promise<void> {
      const target = fileOf(key);
      const temporary = temporaryKey(target);
      let written = 0;
      const count = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          written += chunk.length;
          options.onProgress?.(written);
          done(null, chunk);
        },
      });
      try {
        options.signal?.throwIfAborted();
        await mkdir(dirname(target), { recursive: true });
        await pipeline(body, count, createWriteStream(temporary, { flags: 'wx' }), {
          signal: options.signal,
        });
        // No size or sha256 check here: core counts and hashes every body on its way in.
        await placeFile(temporary, target, { ifAbsent: options.ifAbsent });
      } catch (error) {
        await unlink(temporary).catch(() => undefined);
        throw storeError(error, 'put', key);
      }
    },

    async get(key: string): Promise<Readable> {
      const handle = await open(fileOf(key), 'r').catch((error: unknown) => {
        throw storeError(error, 'get', key);
      });
      // A folder is where keys below it live, not an object.
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        throw new DestinationError('NOT_FOUND', `get ${key}: no such object`);
      }
      return handle.createReadStream();
    },

    async *list(prefix = ''): AsyncIterable<ObjectInfo> {
      const found: ObjectInfo[] = [];
      await walk(root, async (path) => {
        const key = relative(root, path).split(sep).join('/');
        if (!key.startsWith(prefix)) return;
        const info = await stat(path);
        found.push({ key, size: info.size, modified: info.mtime });
      });
      yield* found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async stat(key: string): Promise<ObjectInfo | undefined> {
      try {
        const info = await stat(fileOf(key));
        return info.isFile() ? { key, size: info.size, modified: info.mtime } : undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw storeError(error, 'stat', key);
      }
    },

    async delete(key: string): Promise<void> {
      await rm(fileOf(key), { force: true }).catch((error: unknown) => {
        throw storeError(error, 'delete', key);
      });
    },

    async check(): Promise<CheckResult> {
      // Write and remove a probe: proves the folder exists and is writable.
      const probe = join(root, temporaryKey('check'));
      try {
        await mkdir(root, { recursive: true });
        await pipeline(createReadStream('/dev/null'), createWriteStream(probe, { flags: 'wx' }));
        await unlink(probe);
      } catch (error) {
        throw storeError(error, 'write to', root);
      }
      return { details: [`${root} is writable`] };
    },

    async close(): Promise<void> {},
  };
}

/** Calls `visit` for every file below `folder`, temporaries left out; a missing folder has none. */
async function walk(folder: string, visit: (path: string) => Promise<void>): Promise<void> {
  let entries: Awaited<ReturnType<typeof opendir>>;
  try {
    entries = await opendir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw storeError(error, 'list', folder);
  }
  for await (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) await walk(path, visit);
    else if (entry.isFile() && !parseTemporaryKey(entry.name)) await visit(path);
  }
}
