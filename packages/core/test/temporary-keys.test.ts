import { parseTemporaryKey, temporaryKey } from '@matric-backup/plugin-api';
import { describe, expect, it } from 'vitest';

describe('temporary keys', () => {
  it('hides a put beside its final name and gives that name back', () => {
    const temporary = temporaryKey('shards/backup_20260101_000000_abcdefgh.tar.zst');
    expect(temporary).toMatch(/^shards\/\.backup_20260101_000000_abcdefgh\.tar\.zst\.tmp-[0-9a-f]{12}$/);
    expect(parseTemporaryKey(temporary)).toEqual({ key: 'shards/backup_20260101_000000_abcdefgh.tar.zst' });
    expect(parseTemporaryKey(temporary.slice('shards/'.length))).toEqual({
      key: 'backup_20260101_000000_abcdefgh.tar.zst',
    });
  });

  it('gives two puts of one key two names', () => {
    expect(temporaryKey('a')).not.toBe(temporaryKey('a'));
    expect(temporaryKey('a', '0123456789ab')).toBe('.a.tmp-0123456789ab');
  });

  it('refuses a token that parseTemporaryKey would not recognise', () => {
    expect(() => temporaryKey('a', 'writer-1')).toThrow(/12 lowercase hex/);
  });

  it('recognises leftovers of earlier versions, including SMB names shortened to 100 characters', () => {
    expect(parseTemporaryKey('.backup_20260101_000000.tar.zst.tmp-0a1b2c3d4e5f')).toEqual({
      key: 'backup_20260101_000000.tar.zst',
    });
    expect(parseTemporaryKey(`.${'x'.repeat(100)}.tmp-0a1b2c3d4e5f`)).toEqual({ key: 'x'.repeat(100) });
  });

  it('leaves ordinary hidden names and look-alikes alone', () => {
    for (const name of [
      '.backup.tar.zst',
      '.x.tmp-notours',
      'x.tmp-0a1b2c3d4e5f',
      '.x.tmp-0A1B2C3D4E5F',
      'a/.b',
    ])
      expect(parseTemporaryKey(name)).toBeUndefined();
  });
});
