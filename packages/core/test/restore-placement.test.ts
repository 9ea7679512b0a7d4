import { describe, expect, it } from 'vitest';
import { entriesUnder, pathUnder, placementsInPlace } from '../src/restore/placement.js';
import type { InnerManifest, ShardManifest } from '../src/shard/manifest.js';

const sidecar = (origins?: ShardManifest['origins']) =>
  ({ id: 'backup_20260101_000000', origins }) as ShardManifest;

describe('in-place placements', () => {
  it('puts each directory source at its recorded path and leaves command sources out', () => {
    const { placements, skipped } = placementsInPlace(
      sidecar([
        { name: 'etc', type: 'directory', path: '/etc' },
        { name: 'db', type: 'command' },
        { name: 'www', type: 'directory', path: '/srv/www' },
      ]),
    );
    expect(placements).toEqual([
      { source: 'etc', to: '/etc' },
      { source: 'www', to: '/srv/www' },
    ]);
    expect(skipped).toEqual(['db']);
  });

  it('refuses a shard without recorded paths, and sources whose paths nest', () => {
    expect(() => placementsInPlace(sidecar())).toThrow(/does not record where its sources came from/);
    expect(() =>
      placementsInPlace(
        sidecar([
          { name: 'srv', type: 'directory', path: '/srv' },
          { name: 'www', type: 'directory', path: '/srv/www' },
        ]),
      ),
    ).toThrow('sources srv (/srv) and www (/srv/www) overlap');
    // A common prefix is not nesting.
    expect(
      placementsInPlace(
        sidecar([
          { name: 'a', type: 'directory', path: '/srv/www' },
          { name: 'b', type: 'directory', path: '/srv/www2' },
        ]),
      ).placements,
    ).toHaveLength(2);
  });

  it("takes a source's entries relative to its path, hard-link names too, its folder apart", () => {
    const placement = { source: 'etc', to: '/etc' };
    const inner = {
      entries: [
        { path: 'etc', type: 'directory', mode: 0o755, mtime: 1 },
        { path: 'etc/a', type: 'file', mode: 0o644, mtime: 1, size: 1, sha256: 'x' },
        { path: 'etc/b', type: 'file', mode: 0o644, mtime: 1, size: 1, sha256: 'x', hardlink: 'etc/a' },
        { path: 'etcetera/c', type: 'file', mode: 0o644, mtime: 1, size: 1, sha256: 'x' },
      ],
    } as InnerManifest;
    const { entries, root } = entriesUnder(placement, inner);
    expect(root?.path).toBe('etc');
    expect(entries.map((entry) => [entry.path, entry.hardlink])).toEqual([
      ['a', undefined],
      ['b', 'a'],
    ]);
    expect([pathUnder(placement, 'etc'), pathUnder(placement, 'etcetera/c')]).toEqual(['', undefined]);
  });

  it('under --to, takes the folder of the first source with a selected entry as the root', () => {
    const inner = {
      entries: [
        { path: 'etc', type: 'directory', mode: 0o755, mtime: 1 },
        { path: 'etc/a', type: 'file', mode: 0o644, mtime: 1, size: 1, sha256: 'x' },
        { path: 'home', type: 'directory', mode: 0o700, mtime: 1 },
        { path: 'home/b', type: 'file', mode: 0o644, mtime: 1, size: 1, sha256: 'x' },
      ],
    } as InnerManifest;
    const whole = { to: '/restore' };
    expect(entriesUnder(whole, inner).root?.path).toBe('etc');
    expect(entriesUnder(whole, inner, (path) => path === 'home/b').root?.mode).toBe(0o700);
  });
});
