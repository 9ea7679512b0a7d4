import { describe, expect, it } from 'vitest';
import { parseShardId, shardId, shardIdOfKey, writerTag } from '../src/shard/naming.js';

const AT = new Date('2026-12-03T07:54:18.412Z');

describe('shard ids', () => {
  it('carry a writer tag that differs between configs and between hosts', () => {
    const tags = [writerTag('a', 'host-1'), writerTag('b', 'host-1'), writerTag('a', 'host-2')];
    for (const tag of tags) expect(tag).toMatch(/^[a-z]{8}$/);
    expect(new Set(tags).size).toBe(3);
    expect(writerTag('a', 'host-1')).toBe(tags[0]);
    const id = shardId('backup', AT, tags[0]);
    expect(id).toBe(`backup_20261203_075418_${tags[0]}`);
    expect(shardId('backup', AT, tags[0], (taken) => taken === id)).toBe(`${id}_2`);
  });

  it('parse with and without a tag (ids written before tags keep working)', () => {
    expect(parseShardId('backup_20261203_075418_kqzmbtwa_3')).toEqual({
      prefix: 'backup',
      at: new Date('2026-12-03T07:54:18Z'),
      tag: 'kqzmbtwa',
      seq: 3,
    });
    expect(parseShardId('db-1_20261203_075418_2')).toEqual({
      prefix: 'db-1',
      at: new Date('2026-12-03T07:54:18Z'),
      seq: 2,
    });
    expect(parseShardId('backup_20261203_075418_KQZMBTWA')).toBeUndefined();
    expect(shardIdOfKey('backup_20261203_075418_kqzmbtwa.tar.zst.age')).toBe(
      'backup_20261203_075418_kqzmbtwa',
    );
    expect(shardIdOfKey('backup_20261203_075418.manifest.json')).toBe('backup_20261203_075418');
  });
});
