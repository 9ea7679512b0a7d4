import { assertValidKey, DestinationError } from '@matric-backup/core';
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
