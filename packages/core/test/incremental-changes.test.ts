import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import {
  chmod,
  link,
  mkdir,
  mkdtemp,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DirectorySourceConfig } from '../src/config/schema.js';
import { ChangeDetector, type CompareMode } from '../src/incremental/changes.js';
import type { FileRecord } from '../src/incremental/file-list.js';
import { walkDirectorySync } from '../src/sources/directory.js';
import { SourceProblems } from '../src/sources/problems.js';
import type { SourceWarning } from '../src/sources/types.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-changes-'));
  await mkdir(join(dir, 'docs/old'), { recursive: true });
  await writeFile(join(dir, 'docs/a.txt'), 'alpha');
  await writeFile(join(dir, 'docs/b.txt'), 'bravo');
  await writeFile(join(dir, 'docs/old/1.txt'), 'one');
  await writeFile(join(dir, 'docs/old/2.txt'), 'two');
  await writeFile(join(dir, 'will-be-folder'), 'a file for now');
  await writeFile(join(dir, 'script.sh'), '#!/bin/sh\n');
  await symlink('docs/a.txt', join(dir, 'link'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** One run's selection over the tree: what would be archived, what is deleted, the list for the next run. */
async function scan(
  parent?: ReadonlyMap<string, FileRecord>,
  compare: CompareMode = 'metadata',
  warnings: SourceWarning[] = [],
) {
  const source: DirectorySourceConfig = {
    name: 'src',
    type: 'directory',
    path: dir,
    on_error: 'warn',
    one_file_system: false,
  };
  const records = new Map<string, FileRecord>();
  const detector = new ChangeDetector({
    parent,
    compare,
    commandSources: new Set(),
    onRecord: (record) => records.set(record.path, record),
    warnings,
  });
  const kept: string[] = [];
  const folders: string[] = [];
  const problems = new SourceProblems([source], () => undefined);
  for (const entry of detector.select(walkDirectorySync(source, problems))) {
    if (entry.type === 'directory') {
      folders.push(entry.path);
      continue;
    }
    kept.push(entry.path);
    // What the packer does: archive the file, report the sha256 of what it stored.
    if (entry.type === 'file') {
      const file = join(dir, entry.path.slice('src/'.length));
      const content = readFileSync(file);
      detector.archived(entry.path, createHash('sha256').update(content).digest('hex'), lstatSync(file));
    }
  }
  const deleted = detector.deleted();
  return { kept, folders, deleted, changes: { ...detector.changes }, records };
}

describe('change detection', () => {
  it('without a parent keeps everything; against it, an untouched tree keeps no file', async () => {
    const first = await scan();
    expect(first.kept).toEqual([
      'src/docs/a.txt',
      'src/docs/b.txt',
      'src/docs/old/1.txt',
      'src/docs/old/2.txt',
      'src/link',
      'src/script.sh',
      'src/will-be-folder',
    ]);
    expect(first.folders).toEqual(['src', 'src/docs', 'src/docs/old']);
    const second = await scan(first.records);
    expect(second).toMatchObject({
      kept: [],
      folders: [],
      deleted: [],
      changes: { created: 0, modified: 0, deleted: 0 },
    });
  });

  it('keeps a changed file with the folders above it, and a changed folder; not an unchanged folder', async () => {
    await mkdir(join(dir, 'docs/old/deeper'));
    await writeFile(join(dir, 'docs/old/deeper/3.txt'), 'three');
    await mkdir(join(dir, 'other'));
    await writeFile(join(dir, 'other/4.txt'), 'four');
    await mkdir(join(dir, 'quiet'));
    await writeFile(join(dir, 'quiet/5.txt'), 'five');
    const { records } = await scan();
    // Content only: the folders above keep their mtime, and still come first, in walk order.
    await writeFile(join(dir, 'docs/old/deeper/3.txt'), 'THREE');
    await chmod(join(dir, 'other'), 0o750);
    const next = await scan(records);
    expect(next.kept).toEqual(['src/docs/old/deeper/3.txt']);
    // Not src/quiet: as in the parent, and nothing under it is stored.
    expect(next.folders).toEqual(['src', 'src/docs', 'src/docs/old', 'src/docs/old/deeper', 'src/other']);
    expect(next.changes).toEqual({ created: 0, modified: 2, deleted: 0 });
  });

  it('finds a changed file, a rename, a mode change, a retargeted link, a file replaced by a folder and deletions', async () => {
    const { records } = await scan();
    await writeFile(join(dir, 'docs/a.txt'), 'ALPHA, longer');
    await rename(join(dir, 'docs/b.txt'), join(dir, 'docs/b-renamed.txt'));
    await chmod(join(dir, 'script.sh'), 0o755);
    await unlink(join(dir, 'link'));
    await symlink('docs/b-renamed.txt', join(dir, 'link'));
    await rm(join(dir, 'will-be-folder'));
    await mkdir(join(dir, 'will-be-folder'));
    await writeFile(join(dir, 'will-be-folder/inside.txt'), 'inside');
    await rm(join(dir, 'docs/old'), { recursive: true });

    const next = await scan(records);
    expect(next.kept.sort()).toEqual([
      'src/docs/a.txt',
      'src/docs/b-renamed.txt',
      'src/link',
      'src/script.sh',
      'src/will-be-folder/inside.txt',
    ]);
    // A removed folder is listed once; the file that became a folder is replaced, not deleted.
    expect(next.deleted.sort()).toEqual(['src/docs/b.txt', 'src/docs/old']);
    expect(next.changes.deleted).toBe(2);
    // Created: the renamed file, the folder's content. Modified: a.txt, script.sh, the link, the replaced
    // path and the folders whose listing changed (docs, src root not: its entries' names stayed).
    expect(next.changes.created).toBe(2);
    expect(next.records.get('src/will-be-folder')?.type).toBe('directory');
  });

  it('a folder that became a file replaces it: its former contents are not listed as deleted', async () => {
    const { records } = await scan();
    await rm(join(dir, 'docs'), { recursive: true });
    await writeFile(join(dir, 'docs'), 'now a file');
    const next = await scan(records);
    expect(next.kept).toContain('src/docs');
    expect(next.deleted).toEqual([]);
  });

  it('metadata mode decides by stat: a same-size rewrite with its mtime put back is still found (ctime)', async () => {
    const { records } = await scan();
    const file = join(dir, 'docs/a.txt');
    const before = await stat(file);
    await writeFile(file, 'ALPHA');
    await utimes(file, before.atime, before.mtime);
    expect((await scan(records)).kept).toEqual(['src/docs/a.txt']);
  });

  it('content mode ignores a touch that leaves content and mtime as they were, and finds a changed content', async () => {
    const file = join(dir, 'docs/a.txt');
    // Whole seconds: a time set again reads back exactly.
    const before = { atime: 1_700_000_000, mtime: 1_700_000_000 };
    await utimes(file, before.atime, before.mtime);
    const { records } = await scan(undefined, 'content');
    // Same content and mtime, new ctime and inode: metadata mode would store it again.
    await rm(file);
    await writeFile(file, 'alpha');
    await utimes(file, before.atime, before.mtime);
    expect((await scan(records, 'metadata')).kept).toEqual(['src/docs/a.txt']);
    expect((await scan(records, 'content')).kept).toEqual([]);
    await writeFile(file, 'ALPHA');
    await utimes(file, before.atime, before.mtime);
    expect((await scan(records, 'content')).kept).toEqual(['src/docs/a.txt']);
  });

  it('a list rebuilt from a shard (no ctime, whole-millisecond times) hashes look-alike files, storing only changed ones', async () => {
    const file = join(dir, 'docs/a.txt');
    await utimes(file, 1_700_000_000, 1_700_000_000);
    const rebuilt = new Map<string, FileRecord>(
      [...(await scan()).records].map(([path, record]): [string, FileRecord] => {
        if (record.type !== 'file') return [path, { ...record, mtime: Math.round(record.mtime) }];
        const { ctime: _ctime, ino: _ino, ...rest } = record;
        return [path, { ...rest, mtime: Math.round(record.mtime) }];
      }),
    );
    expect((await scan(rebuilt)).kept).toEqual([]);
    await writeFile(file, 'ALPHA');
    await utimes(file, 1_700_000_000, 1_700_000_000);
    expect((await scan(rebuilt)).kept).toEqual(['src/docs/a.txt']);
  });

  it.each(['metadata', 'content'] as const)(
    'a file stored with any warning (%s mode) is stored again by the next run, then no more',
    async (compare) => {
      const unreadable: SourceWarning = {
        code: 'UNREADABLE',
        path: 'src/docs/a.txt',
        reason: 'input/output error',
      };
      const changed: SourceWarning = {
        code: 'CHANGED',
        path: 'src/docs/b.txt',
        reason: 'changed while read',
      };
      const first = await scan(undefined, compare, [unreadable, changed]);
      // Untouched since: only the two warned files go again, and a clean read settles them.
      const second = await scan(first.records, compare);
      expect(second.kept.sort()).toEqual(['src/docs/a.txt', 'src/docs/b.txt']);
      expect((await scan(second.records, compare)).kept).toEqual([]);
    },
  );

  it.each(['metadata', 'content'] as const)(
    'a name added to a file of several names (%s mode) stores every name, so the shard links them again',
    async (compare) => {
      await link(join(dir, 'docs/a.txt'), join(dir, 'docs/a-too.txt'));
      const { records } = await scan(undefined, compare);
      expect((await scan(records, compare)).kept).toEqual([]);
      await link(join(dir, 'docs/a.txt'), join(dir, 'a-third.txt'));
      const next = await scan(records, compare);
      expect(next.kept.sort()).toEqual(['src/a-third.txt', 'src/docs/a-too.txt', 'src/docs/a.txt']);
      // A list rebuilt from a shard cannot tell which names were one file: such a file is stored.
      const rebuilt = new Map(
        [...next.records].map(([path, record]): [string, FileRecord] => {
          if (record.type !== 'file') return [path, record];
          const { ctime: _ctime, ino: _ino, nlink: _nlink, ...rest } = record;
          return [path, rest];
        }),
      );
      expect((await scan(rebuilt, compare)).kept.sort()).toEqual(next.kept.sort());
    },
  );

  it('a file handed on but never archived (vanished) is left out of the next list', async () => {
    const source: DirectorySourceConfig = {
      name: 'src',
      type: 'directory',
      path: dir,
      on_error: 'warn',
      one_file_system: false,
    };
    const records = new Map<string, FileRecord>();
    const detector = new ChangeDetector({
      compare: 'metadata',
      commandSources: new Set(),
      onRecord: (record) => records.set(record.path, record),
      warnings: [],
    });
    const problems = new SourceProblems([source], () => undefined);
    for (const entry of detector.select(walkDirectorySync(source, problems))) {
      if (entry.type === 'file' && entry.path !== 'src/docs/a.txt')
        detector.archived(entry.path, '0'.repeat(64), lstatSync(join(dir, entry.path.slice('src/'.length))));
    }
    detector.deleted();
    expect(records.has('src/docs/a.txt')).toBe(false);
    expect(records.has('src/docs/b.txt')).toBe(true);
  });

  it('always keeps the entries of a command source', async () => {
    const { records } = await scan();
    const detector = new ChangeDetector({
      parent: records,
      compare: 'metadata',
      commandSources: new Set(['src']),
      onRecord: () => undefined,
      warnings: [],
    });
    const source: DirectorySourceConfig = {
      name: 'src',
      type: 'directory',
      path: dir,
      on_error: 'warn',
      one_file_system: false,
    };
    const kept: string[] = [];
    for (const entry of detector.select(walkDirectorySync(source, new SourceProblems([source], () => {}))))
      if (entry.type === 'file') kept.push(entry.path);
    expect(kept).toHaveLength(6);
  });
});
