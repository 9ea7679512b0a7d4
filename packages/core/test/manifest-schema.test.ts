import { describe, expect, it } from 'vitest';
import { parseInnerManifest, parseShardManifest } from '../src/shard/manifest-schema.js';
import { placeholderSidecar } from './fixtures/sidecar.js';

const at = new Date('2026-01-02T03:04:05Z');
const full = placeholderSidecar('h_20260102_030405_abcdefgh', at);
const first = placeholderSidecar('h_20260103_030405_abcdefgh', at, {
  incremental: {
    parent: full.id,
    base: full.id,
    chain_length: 1,
    changes: { created: 2, modified: 1, deleted: 3 },
  },
});

const inner = {
  version: '1.0.0',
  format: 'matric-backup',
  id: 'x',
  created_at: at.toISOString(),
  sources: ['data'],
  entries: [{ path: 'data', type: 'directory', mode: 0o755, mtime: 0 }],
};

describe('sidecar manifest', () => {
  it('reads a full shard as before and an incremental one with its chain', () => {
    expect(parseShardManifest(JSON.stringify(full))).toEqual(full);
    const parsed = parseShardManifest(JSON.stringify(first));
    expect(parsed.type).toBe('incremental');
    expect(parsed).toMatchObject({
      parent: full.id,
      base: full.id,
      chain_length: 1,
      changes: { deleted: 3 },
    });
  });

  it('refuses an incremental shard without its chain, naming the field', () => {
    const { parent: _parent, ...orphan } = first as Extract<typeof first, { type: 'incremental' }>;
    expect(() => parseShardManifest(JSON.stringify(orphan))).toThrow(/^parent: /);
    expect(() => parseShardManifest(JSON.stringify({ ...first, changes: { created: 1 } }))).toThrow(
      /^changes\.modified: /,
    );
    expect(() => parseShardManifest(JSON.stringify({ ...first, type: 'differential' }))).toThrow(/^type: /);
  });

  it('refuses a chain length that contradicts parent and base', () => {
    expect(() => parseShardManifest(JSON.stringify({ ...first, chain_length: 2 }))).toThrow(
      /^chain_length: 2/,
    );
    const second = { ...first, id: 'h_20260104_030405_abcdefgh', parent: first.id, chain_length: 1 };
    expect(() => parseShardManifest(JSON.stringify(second))).toThrow(/^chain_length: 1/);
    expect(parseShardManifest(JSON.stringify({ ...second, chain_length: 2 })).type).toBe('incremental');
    expect(() => parseShardManifest(JSON.stringify({ ...first, parent: first.id, chain_length: 2 }))).toThrow(
      /own parent/,
    );
  });
});

describe('inner manifest', () => {
  it('reads one written before incrementals existed (no type) as it is: a full shard', () => {
    expect(parseInnerManifest(JSON.stringify(inner)).type).toBeUndefined();
  });

  it('reads an incremental one with its deletions and refuses one without them', () => {
    const incremental = { ...inner, type: 'incremental', parent: 'p', base: 'b', deleted: ['data/gone'] };
    expect(parseInnerManifest(JSON.stringify(incremental))).toMatchObject({
      deleted: ['data/gone'],
      base: 'b',
    });
    const { deleted: _deleted, ...without } = incremental;
    expect(() => parseInnerManifest(JSON.stringify(without))).toThrow(/^deleted: required in an incremental/);
  });

  it('names the first bad field, a header field before an entry and an entry by its index, and keeps unknown keys', () => {
    const file = { path: 'data/f', type: 'file', mode: 0o644, mtime: 0, size: 1, sha256: 'a'.repeat(64) };
    const entries = [...inner.entries, file, { ...file, path: 'data/g', sha256: 'nope' }];
    expect(() => parseInnerManifest(JSON.stringify({ ...inner, entries }))).toThrow(/^entries\.2\.sha256: /);
    expect(() => parseInnerManifest(JSON.stringify({ ...inner, id: '', entries }))).toThrow(/^id: /);
    expect(() => parseInnerManifest(JSON.stringify({ ...inner, entries, warnings: 1 }))).toThrow(
      /^entries\.2\.sha256: /,
    );
    expect(() => parseInnerManifest(JSON.stringify({ ...inner, entries: [null] }))).toThrow(/^entries\.0: /);
    expect(() => parseInnerManifest('[]')).toThrow(/^\(root\): /);
    const kept = parseInnerManifest(
      JSON.stringify({ ...inner, note: 1, entries: [{ ...file, xattrs: {} }] }),
    );
    expect(kept).toMatchObject({ note: 1, entries: [{ xattrs: {} }] });
  });
});
