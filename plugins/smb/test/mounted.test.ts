import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Destination, guardDestination, isDestinationError, mountAt } from '@matric-backup/core';
import { runDestinationConformance } from '@matric-backup/destination-testkit';
import { afterAll, describe, expect, it } from 'vitest';
import plugin, { smbConfigSchema } from '../src/index.js';

import { filesUnder, testContext } from './helpers.js';

// A real mount point every Linux machine and container has, writable without privileges.
const MOUNT = '/dev/shm';
const base = `matric-smb-test-${process.pid}`;
let count = 0;
let folder = '';

afterAll(() => rmSync(join(MOUNT, base), { recursive: true, force: true }));

const create = (mountPoint: string, path: string) =>
  guardDestination(
    'mounted',
    plugin.create(
      smbConfigSchema.parse({ share: '//nas/backups', mount_point: mountPoint, path }),
      testContext(),
    ) as Destination,
  );

describe('mount_point', () => {
  it('finds the filesystem mounted there, also through a symlink', async () => {
    expect(await mountAt(MOUNT)).toMatchObject({ path: MOUNT, fsType: 'tmpfs' });
    const linkFolder = mkdtempSync(join(tmpdir(), 'mb-smb-link-'));
    symlinkSync(MOUNT, join(linkFolder, 'mnt'));
    expect(await mountAt(join(linkFolder, 'mnt'))).toMatchObject({ path: MOUNT });
    rmSync(linkFolder, { recursive: true });
    expect(await mountAt(join(MOUNT, '..'))).toMatchObject({ path: '/dev' });
  });

  it('a plain folder is refused with CONFIG for every operation, and nothing is written to it', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'mb-smb-unmounted-'));
    const destination = create(plain, 'backups');
    const attempts: Array<[string, () => Promise<unknown>]> = [
      [
        'put',
        () =>
          destination.put('a', Readable.from([Buffer.from('x')]), {
            size: 1,
            sha256: createHash('sha256').update('x').digest('hex'),
          }),
      ],
      ['check', () => destination.check()],
      ['stat', () => destination.stat('a')],
      [
        'list',
        async () => {
          for await (const _ of destination.list()) break;
        },
      ],
    ];
    for (const [what, attempt] of attempts) {
      const error = await attempt().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(isDestinationError(error) && error.code, what).toBe('CONFIG');
      expect((error as Error).message).toContain(`mount_point ${plain} is not a mount point`);
    }
    expect(readdirSync(plain)).toEqual([]);
    rmSync(plain, { recursive: true });
  });

  it('hides temporary files of killed uploads from list and reports them with their key', async () => {
    const destination = create(MOUNT, `${base}/leftovers`);
    await destination.put('sub/kept', Readable.from([Buffer.from('x')]), {
      size: 1,
      sha256: createHash('sha256').update('x').digest('hex'),
    });
    const name = 'sub/.backup_20260101_000000_abcdefgh.tar.zst.tmp-0123456789ab';
    writeFileSync(join(MOUNT, base, 'leftovers', name), 'partial');
    const listed = [];
    for await (const info of destination.list()) listed.push(info.key);
    expect(listed).toEqual(['sub/kept']);
    const temporaries = [];
    for await (const temporary of destination.listTemporary!()) temporaries.push(temporary);
    expect(temporaries).toEqual([
      { name, key: 'sub/backup_20260101_000000_abcdefgh.tar.zst', size: 7, modified: expect.any(Date) },
    ]);
    await destination.delete(name);
    expect(readdirSync(join(MOUNT, base, 'leftovers/sub'))).toEqual(['kept']);
  });

  it('writes files 0600 in folders 0700, and check() names the filesystem', async () => {
    const destination = create(MOUNT, `${base}/modes`);
    await destination.put('sub/file', Readable.from([Buffer.from('x')]), {
      size: 1,
      sha256: createHash('sha256').update('x').digest('hex'),
    });
    expect(statSync(join(MOUNT, base, 'modes/sub/file')).mode & 0o777).toBe(0o600);
    expect(statSync(join(MOUNT, base, 'modes/sub')).mode & 0o777).toBe(0o700);
    const result = await destination.check();
    expect(result.details[0]).toBe(`${MOUNT} is a mount point (tmpfs tmpfs)`);
    expect(result.freeBytes).toBeGreaterThan(0);
  });
});

mkdirSync(join(MOUNT, base), { recursive: true });

runDestinationConformance({
  name: 'smb through a mount point (tmpfs standing in for a CIFS mount)',
  runner: { describe, it },
  plugin,
  config: () => {
    folder = `${base}/conformance-${++count}`;
    return { share: '//nas/backups', mount_point: MOUNT, path: folder };
  },
  // The large round trip lives in RAM here; 16 MiB is plenty to cross every buffer.
  largeObjectSize: 16 * 1024 * 1024,
  rawList: () => filesUnder(join(MOUNT, folder)),
});
