import { Readable } from 'node:stream';
import { assertValidKey, DestinationError, guardDestination } from '@matric-backup/core';
import { memoryDestination } from '@matric-backup/destination-testkit';
import { describe, expect, it } from 'vitest';

describe('assertValidKey', () => {
  it.each(['a', 'a/b.tar.zst', 'backup_20260101_000000.manifest.json', 'dir with space/ü.txt'])(
    'accepts %j',
    (key) => {
      expect(() => assertValidKey(key)).not.toThrow();
    },
  );

  it.each(['', '/abs', '../x', 'a/../b', 'a\\b', 'a\0b', 'a//b', './a', 'a/'])(
    'rejects %j with INVALID_KEY',
    (key) => {
      let caught: unknown;
      try {
        assertValidKey(key);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(DestinationError);
      expect((caught as DestinationError).code).toBe('INVALID_KEY');
    },
  );

  it('accepts an empty prefix only when allowed', () => {
    expect(() => assertValidKey('', { allowEmpty: true })).not.toThrow();
  });
});

describe('guardDestination checks keys before the plugin sees them', () => {
  const invalidKeys = ['..', '../escape', 'a/../../b', '/etc/passwd', 'a\\b', 'nul\0byte', ''];
  const invalidPrefixes = ['../', '/abs', 'a\\', 'nul\0'];

  it('rejects every invalid key and prefix with INVALID_KEY, and the plugin is never called', async () => {
    const plugin = memoryDestination();
    const destination = guardDestination('memory', plugin);
    const body = () => Readable.from([Buffer.from('must never be stored')]);
    for (const key of invalidKeys) {
      await expect(destination.put(key, body(), { size: 20, sha256: 'x' })).rejects.toMatchObject({
        code: 'INVALID_KEY',
      });
      await expect(destination.get(key)).rejects.toMatchObject({ code: 'INVALID_KEY' });
      await expect(destination.stat(key)).rejects.toMatchObject({ code: 'INVALID_KEY' });
      await expect(destination.delete(key)).rejects.toMatchObject({ code: 'INVALID_KEY' });
      await expect(destination.deleteMany!(['fine', key])).rejects.toMatchObject({ code: 'INVALID_KEY' });
    }
    for (const prefix of invalidPrefixes) {
      const listing = (async () => {
        for await (const _ of destination.list(prefix));
      })();
      await expect(listing).rejects.toMatchObject({ code: 'INVALID_KEY' });
    }
    expect(plugin.store.calls).toEqual([]);
  });
});
