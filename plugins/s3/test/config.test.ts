import { s3ConfigSchema } from '@matric-backup/plugin-s3';
import { describe, expect, test } from 'vitest';
import { choosePartSize, effectiveConcurrency } from '../src/config.js';

const MiB = 1024 * 1024;
const base = { bucket: 'backups' };

describe('config', () => {
  test('defaults are safe against S3-compatible servers', () => {
    expect(s3ConfigSchema.parse(base)).toEqual({
      bucket: 'backups',
      prefix: '',
      multipart_threshold: 8 * MiB,
      concurrency: 4,
      checksums: 'when_required',
    });
  });

  test.each([
    ['prod', 'prod/'],
    ['/prod/', 'prod/'],
    ['a/b//', 'a/b/'],
    ['', ''],
  ])('prefix %j is stored as %j', (prefix, expected) => {
    expect(s3ConfigSchema.parse({ ...base, prefix }).prefix).toBe(expected);
  });

  test.each(['a/../b', 'a//b', 'a\\b', './a'])('prefix %j is refused', (prefix) => {
    expect(s3ConfigSchema.safeParse({ ...base, prefix }).error?.issues[0]?.path).toEqual(['prefix']);
  });

  test('sizes take units', () => {
    const config = s3ConfigSchema.parse({ ...base, part_size: '16MiB', multipart_threshold: '100 MB' });
    expect(config.part_size).toBe(16 * MiB);
    expect(config.multipart_threshold).toBe(100_000_000);
  });

  test.each([
    [{ part_size: '4MiB' }, 'part_size'],
    [{ part_size: '16 parsecs' }, 'part_size'],
    [{ access_key_id: 'AKIA' }, 'secret_access_key'],
    [{ session_token: 'token' }, 'session_token'],
    [{ sse: 'AES256', sse_kms_key_id: 'key' }, 'sse_kms_key_id'],
    [{ endpoint: 'ftp://example.com' }, 'endpoint'],
    [{ checksums: 'always' }, 'checksums'],
    [{ bucket_name: 'typo' }, ''],
  ])('%j is refused at %j', (extra, path) => {
    const issues = s3ConfigSchema.safeParse({ ...base, ...extra }).error?.issues ?? [];
    expect(issues.map((issue) => issue.path.join('.'))).toContain(path);
  });
});

describe('part size', () => {
  test('at least 8 MiB, or what the user set', () => {
    expect(choosePartSize(100 * MiB)).toBe(8 * MiB);
    expect(choosePartSize(100 * MiB, 5 * MiB)).toBe(5 * MiB);
  });

  test('never more than 10,000 parts, in whole MiB', () => {
    const size = 200 * 1024 * MiB; // 200 GiB
    const part = choosePartSize(size, 5 * MiB);
    expect(Math.ceil(size / part)).toBeLessThanOrEqual(10_000);
    expect(part % MiB).toBe(0);
    expect(choosePartSize(5 * 1024 ** 4)).toBeLessThanOrEqual(5 * 1024 * MiB);
  });

  test('parts in flight shrink as parts grow, so memory stays bounded', () => {
    expect(effectiveConcurrency(8 * MiB, 4)).toBe(4);
    expect(effectiveConcurrency(64 * MiB, 4)).toBe(2);
    expect(effectiveConcurrency(525 * MiB, 4)).toBe(1);
  });
});
