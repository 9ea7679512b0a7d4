import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Destination, guardDestination } from '@matric-backup/core';
import plugin from '@matric-backup/plugin-local';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testContext } from './context.js';

let scratch: string;
let usb: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mb-local-mount-'));
  usb = join(scratch, 'usb');
  await mkdir(usb);
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

async function open(config: { path: string; mount_point?: string }): Promise<Destination> {
  return guardDestination('usb', await plugin.create(config, testContext));
}

const put = (destination: Destination, key: string) =>
  destination.put(key, Readable.from([Buffer.from('data')]), {
    size: 4,
    sha256: createHash('sha256').update('data').digest('hex'),
  });

describe('plugin-local mount_point', () => {
  it('works while a filesystem is mounted there, and refuses every operation with CONFIG once it is unmounted', async () => {
    // A real mount (tests run as root): a tmpfs standing in for the USB disk.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', usb]);
    let mounted = true;
    try {
      const destination = await open({ path: join(usb, 'backups'), mount_point: usb });
      const check = await destination.check();
      expect(check.details[0]).toMatch(new RegExp(`^${usb} is a mount point \\(tmpfs`));
      await put(destination, 'one');
      expect(await readdir(join(usb, 'backups'))).toEqual(['one']);

      execFileSync('umount', [usb]);
      mounted = false;
      const refused = {
        code: 'CONFIG',
        retryable: false,
        message: expect.stringContaining(`mount_point ${usb} is not a mount point`),
      };
      await expect(put(destination, 'two')).rejects.toMatchObject(refused);
      await expect(destination.check()).rejects.toMatchObject(refused);
      await expect(destination.stat('one')).rejects.toMatchObject(refused);
      await expect(destination.get('one')).rejects.toMatchObject(refused);
      await expect(destination.delete('one')).rejects.toMatchObject(refused);
      await expect(
        (async () => {
          for await (const _ of destination.list('')) break;
        })(),
      ).rejects.toMatchObject(refused);
      // Nothing was written onto the disk underneath.
      expect(await readdir(usb)).toEqual([]);
    } finally {
      if (mounted) execFileSync('umount', [usb]);
    }
  });

  it('refuses a path outside the mount point when opened', async () => {
    await expect(open({ path: join(scratch, 'elsewhere'), mount_point: usb })).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining(`is not inside mount_point ${usb}`),
    });
  });
});
