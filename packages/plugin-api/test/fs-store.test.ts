import { execFileSync } from 'node:child_process';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Destination, isDestinationError } from '@matric-backup/plugin-api';
import { createFsStore } from '@matric-backup/plugin-api/fs-store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fsError } from '../src/fs-store/errno.js';
import { spaceShortfall } from '../src/fs-store/space.js';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mb-fs-store-'));
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

const put = (store: Destination, key: string, body: Buffer | string, size = Buffer.byteLength(body)) =>
  store.put(key, Readable.from([Buffer.from(body)]), { size, sha256: 'not checked by the store' });

const keys = async (iterable: AsyncIterable<{ key: string }>) => {
  const found: string[] = [];
  for await (const { key } of iterable) found.push(key);
  return found;
};

/** What an operation failed with: its code, whether it is retried, and its message. */
const failure = (operation: Promise<unknown>) =>
  operation.then(
    () => undefined,
    (error: unknown) => {
      if (!isDestinationError(error)) throw error;
      return { code: error.code, retryable: error.retryable, message: error.message };
    },
  );

const isRoot = process.getuid?.() === 0;

describe('fs-store', () => {
  it('lists each folder in name order, skipping temporary files, folders and symlinks; listTemporary finds the leftovers in every folder', async () => {
    const root = join(scratch, 'store');
    const store = createFsStore({ root });
    for (const key of ['b', 'a/2', 'a/1', 'c/x/y', 'ab']) await put(store, key, key);
    // Killed uploads' leftovers, and a symlink another tool made.
    await writeFile(join(root, '.b.tmp-0123456789ab'), 'half');
    await utimes(join(root, '.b.tmp-0123456789ab'), new Date('2026-01-01'), new Date('2026-01-01'));
    await writeFile(join(root, 'c/x/.y.tmp-abcdefabcdef'), 'partial');
    await symlink(join(root, 'b'), join(root, 'link'));

    expect(await keys(store.list())).toEqual(['a/1', 'a/2', 'ab', 'b', 'c/x/y']);
    expect(await keys(store.list('a'))).toEqual(['a/1', 'a/2', 'ab']);
    expect(await keys(store.list('a/'))).toEqual(['a/1', 'a/2']);
    expect(await keys(store.list('c/x/'))).toEqual(['c/x/y']);
    expect(await keys(store.list('nothing/'))).toEqual([]);
    expect(await store.stat('link')).toBeUndefined();
    expect(await store.stat('a/1')).toMatchObject({ key: 'a/1', size: 3 });

    const temporary = [];
    for await (const item of store.listTemporary!()) temporary.push(item);
    expect(temporary).toEqual([
      { name: '.b.tmp-0123456789ab', key: 'b', size: 4, modified: new Date('2026-01-01') },
      { name: 'c/x/.y.tmp-abcdefabcdef', key: 'c/x/y', size: 7, modified: expect.any(Date) },
    ]);
    await store.delete('.b.tmp-0123456789ab');
    expect(await readdir(root)).not.toContain('.b.tmp-0123456789ab');
  });

  it('a file where a folder is needed (ENOTDIR, EEXIST): put is CONFIG naming the path; reads see no object', async () => {
    const root = join(scratch, 'store');
    const store = createFsStore({ root });
    await put(store, 'a', 'a file');
    expect(await failure(put(store, 'a/b/c', 'x'))).toEqual({
      code: 'CONFIG',
      retryable: false,
      message: `create folder ${join(root, 'a/b')}: a file stands where a folder is needed (ENOTDIR)`,
    });
    // mkdir names the same collision EEXIST when the file is the folder itself.
    expect(await failure(put(store, 'a/b', 'x'))).toEqual({
      code: 'CONFIG',
      retryable: false,
      message: `create folder ${join(root, 'a')}: a file stands where a folder is needed (EEXIST)`,
    });
    expect(await store.stat('a/b')).toBeUndefined();
    expect(await store.stat('a/b/c')).toBeUndefined();
    expect(await failure(store.get('a/b'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await keys(store.list('a/'))).toEqual([]);
    await store.delete('a/b');
    await store.delete('a/b/c');

    // The root itself is a file.
    const blocked = createFsStore({ root: join(root, 'a') });
    expect(await failure(put(blocked, 'shard', 'x'))).toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining(`${join(root, 'a')}: a file stands where a folder is needed`),
    });
    expect(await failure(blocked.check())).toMatchObject({ code: 'CONFIG' });
    expect(await readFile(join(root, 'a'), 'utf8')).toBe('a file');
  });

  it('a folder where a file is needed (EISDIR): put is CONFIG and leaves the folder and no temporary file; delete and get see no object', async () => {
    const root = join(scratch, 'store');
    const store = createFsStore({ root });
    await put(store, 'shard/inner', 'kept');
    expect(await failure(put(store, 'shard', 'x'))).toEqual({
      code: 'CONFIG',
      retryable: false,
      message: `write ${join(root, 'shard')}: a folder stands where a file is needed (EISDIR)`,
    });
    expect(await readdir(root)).toEqual(['shard']);
    await store.delete('shard');
    expect(await failure(store.get('shard'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await readFile(join(root, 'shard/inner'), 'utf8')).toBe('kept');
  });

  it('maps the errnos of a server that is away to UNREACHABLE, retried; an unknown errno is left for core', () => {
    const away = Object.assign(new Error('host is down'), { code: 'EHOSTDOWN' });
    expect(fsError(away, 'write', '/mnt/share/x')).toMatchObject({
      code: 'UNREACHABLE',
      retryable: true,
      message: 'write /mnt/share/x: the server behind the mount cannot be reached (EHOSTDOWN)',
    });
    const odd = Object.assign(new Error('odd'), { code: 'EWHATEVER' });
    expect(fsError(odd, 'write', '/x')).toBe(odd);
  });
});

describe.runIf(isRoot)('fs-store on a full filesystem (a 1 MiB tmpfs)', () => {
  let disk: string;
  beforeEach(async () => {
    disk = join(scratch, 'disk');
    await mkdir(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]);
  });
  afterEach(() => {
    execFileSync('umount', [disk]);
  });

  it('refuses a put larger than the free space before writing a byte, with the numbers', async () => {
    const store = createFsStore({ root: disk });
    const error = await failure(put(store, 'big', Buffer.alloc(2 * 1024 * 1024)));
    expect(error).toMatchObject({ code: 'NO_SPACE', retryable: false });
    expect(error?.message).toMatch(/^not enough free space in .*: need 2\.0 MiB \(2097152 bytes\), /);
    expect(await readdir(disk)).toEqual([]);
  });

  it('a real ENOSPC while writing is NO_SPACE and leaves no temporary file', async () => {
    const store = createFsStore({ root: disk });
    // The stream is longer than announced, so the space check lets it start and the disk fills up.
    const chunks = Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, 1));
    const error = await failure(
      store.put('big', Readable.from(chunks), { size: 1000, sha256: 'not checked by the store' }),
    );
    expect(error).toEqual({
      code: 'NO_SPACE',
      retryable: false,
      message: `write ${join(disk, 'big')}: no space left on device (ENOSPC)`,
    });
    expect(await readdir(disk)).toEqual([]);
  });
});

// Root ignores file modes, so the store runs as nobody for these: the effective ids of this test
// process (one vitest fork runs one file) change for the length of each operation.
describe.runIf(isRoot)('fs-store as a user without permission (nobody)', () => {
  const asNobody = async <T>(operation: () => Promise<T>): Promise<T> => {
    process.setegid!(65534);
    process.seteuid!(65534);
    try {
      return await operation();
    } finally {
      process.seteuid!(0);
      process.setegid!(0);
    }
  };

  it('put, get, list, delete and check are PERMISSION_DENIED naming the path; what may be read still is', async () => {
    await chmod(scratch, 0o755);
    const root = join(scratch, 'store');
    const store = createFsStore({ root });
    await put(store, 'mine', 'root only');
    await put(store, 'private/inside', 'root only');
    await chmod(root, 0o755);

    const denied = { code: 'PERMISSION_DENIED', retryable: false };
    expect(await asNobody(() => failure(put(store, 'new', 'x')))).toEqual({
      ...denied,
      message: `write ${join(root, 'new')}: permission denied (EACCES)`,
    });
    expect(await asNobody(() => failure(store.get('mine')))).toEqual({
      ...denied,
      message: `read ${join(root, 'mine')}: permission denied (EACCES)`,
    });
    expect(await asNobody(() => failure(store.delete('mine')))).toMatchObject(denied);
    expect(await asNobody(() => failure(store.check()))).toMatchObject(denied);
    expect(await asNobody(() => failure(keys(store.list())))).toEqual({
      ...denied,
      message: `list ${join(root, 'private')}: permission denied (EACCES)`,
    });
    // The root is readable: the object is there, only its bytes are not.
    expect(await asNobody(() => store.stat('mine'))).toMatchObject({ key: 'mine', size: 9 });
    expect(await readdir(root)).toEqual(['mine', 'private']);
    expect((await stat(join(root, 'mine'))).mode & 0o777).toBe(0o600);
  });
});

// The decision alone: a fake statfs is not a real filesystem (the tmpfs test above is the real one).
describe('spaceShortfall', () => {
  it('lets a write through when it fits or the free space is unknown', () => {
    expect(spaceShortfall(100, 100, '/srv')).toBeUndefined();
    expect(spaceShortfall(0, 0, '/srv')).toBeUndefined();
    expect(spaceShortfall(10 ** 15, undefined, '/srv')).toBeUndefined();
  });

  it('refuses with NO_SPACE, not retryable, naming needed and free bytes and the folder', () => {
    const error = spaceShortfall(3 * 1024 ** 3, 512 * 1024 ** 2, '/srv/backups');
    expect(error).toMatchObject({ code: 'NO_SPACE', retryable: false });
    expect(error?.message).toBe(
      'not enough free space in /srv/backups: need 3.0 GiB (3221225472 bytes), 512.0 MiB (536870912 bytes) free',
    );
  });
});
