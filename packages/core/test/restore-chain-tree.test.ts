import { describe, expect, it } from 'vitest';
import { ChainTree } from '../src/restore/chain-tree.js';
import type { InnerManifest, InnerManifestEntry } from '../src/shard/manifest.js';
import { ChainTreeModel } from './fixtures/chain-tree-model.js';

const file = (path: string, extra: Partial<InnerManifestEntry> = {}): InnerManifestEntry => ({
  path,
  type: 'file',
  mode: 0o644,
  mtime: 1,
  size: 1,
  ...extra,
});
const dir = (path: string): InnerManifestEntry => ({ path, type: 'directory', mode: 0o755, mtime: 1 });
const inner = (entries: InnerManifestEntry[], deleted: string[] = []) =>
  ({ id: 'x', entries, deleted }) as unknown as InnerManifest;

/** A small deterministic generator (Park-Miller): the same trees on every run. */
function generator(seed: number) {
  let state = seed;
  return (n: number) => {
    state = (state * 16_807) % 2_147_483_647;
    return Math.floor((state / 2_147_483_647) * n);
  };
}

/** A tree of folders and files, some files hard links to earlier ones; some folders are files instead. */
function randomTree(random: (n: number) => number, size: number): InnerManifestEntry[] {
  const entries = [dir('s')];
  const files: string[] = [];
  for (let i = 0; i < 6; i++) {
    const folder = `s/d${i}`;
    if (random(4) === 0) {
      entries.push(file(folder, { size }));
      files.push(folder);
      continue;
    }
    entries.push(dir(folder));
    for (let j = 0; j < 5; j++) {
      const path = `${folder}/f${j}`;
      if (random(3) === 0 && files.length > 0)
        entries.push(file(path, { hardlink: files[random(files.length)]! }));
      else {
        entries.push(file(path, { size }));
        files.push(path);
      }
    }
  }
  return entries;
}

/** Each file with its other names, and each folder: which name holds the content is either's choice. */
function inodes(tree: { manifest(last: InnerManifest): InnerManifest }): string[] {
  const { entries } = tree.manifest(inner([]));
  const paths = new Set(entries.map((entry) => entry.path));
  return entries
    .flatMap((entry) => {
      if (entry.hardlink !== undefined) return paths.has(entry.hardlink) ? [] : [`dangling ${entry.path}`];
      if (entry.type !== 'file') return [`${entry.type} ${entry.path}`];
      const names = entries.filter((other) => other.hardlink === entry.path).map((other) => other.path);
      return [`file ${[entry.path, ...names].sort().join(',')} ${entry.size}`];
    })
    .sort();
}

describe('the tree a chain adds up to', () => {
  it('equals the reference model over random chains of changes, deletions, folders turned files and hard links', () => {
    const random = generator(17);
    for (let trial = 0; trial < 300; trial++) {
      const base = randomTree(random, 0);
      const tree = new ChainTree(inner(base));
      const model = new ChainTreeModel(inner(base));
      for (let link = 1; link <= 3; link++) {
        const kept = randomTree(random, link).filter(
          (entry) => entry.type === 'directory' || random(3) === 0,
        );
        // An incremental's hard links lead to a file it holds itself.
        const heads = new Set(
          kept.filter((entry) => entry.hardlink === undefined).map((entry) => entry.path),
        );
        const entries = kept.map((entry) =>
          entry.hardlink !== undefined && !heads.has(entry.hardlink)
            ? file(entry.path, { size: link })
            : entry,
        );
        const incoming = new Set(entries.map((entry) => entry.path));
        const deleted = tree
          .manifest(inner([]))
          .entries.map((entry) => entry.path)
          .filter((path) => !incoming.has(path) && random(8) === 0);
        tree.apply(inner(entries, deleted));
        model.apply(inner(entries, deleted));
        expect(inodes(tree)).toEqual(inodes(model));
      }
    }
  });
});

describe('appended bytes that do not fit the chain', () => {
  it('says what the chain before has there: nothing (a folder is gone first), a symbolic link, a file of other names', () => {
    const append = { from: 1, from_sha256: 'a'.repeat(64), sha256: 'b'.repeat(64) };
    const tree = new ChainTree(
      inner([
        dir('s'),
        dir('s/folder'),
        { path: 's/link', type: 'symlink', mode: 0o777, mtime: 1, target: 'x' } as InnerManifestEntry,
        file('s/one', { sha256: 'a'.repeat(64) }),
        file('s/two', { sha256: 'a'.repeat(64), hardlink: 's/one' }),
      ]),
    );
    const grown = (path: string) => file(path, { size: 2, sha256: 'c'.repeat(64), append });
    const problems = tree.apply(inner([grown('s/gone'), grown('s/folder'), grown('s/link'), grown('s/two')]));
    expect(problems.map((problem) => problem.slice(problem.indexOf(';')))).toEqual([
      '; the chain before has nothing there',
      // A folder the incremental holds a file at goes first, with what it held.
      '; the chain before has nothing there',
      '; the chain before has a symlink there',
      '; the chain before has a file of other names there',
    ]);
  });
});
