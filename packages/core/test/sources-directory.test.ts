import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MatricError } from '@matric-backup/plugin-api';
import { canMount, withLoopDisk } from '@matric-backup/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DirectorySourceConfig } from '../src/config/schema.js';
import { walkDirectory } from '../src/sources/directory.js';
import { SourceProblems } from '../src/sources/problems.js';
import { foldersToSkip } from '../src/sources/read.js';
import type { SourceEntry } from '../src/sources/types.js';
import type { Warning } from '../src/util/warning.js';
import { asUnprivilegedUser } from './fixtures/run/unprivileged.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mb-walk-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The source `src` over the test's folder. */
function sourceOf(options: Partial<DirectorySourceConfig> = {}): DirectorySourceConfig {
  return { name: 'src', type: 'directory', path: dir, on_error: 'warn', one_file_system: false, ...options };
}

async function walk(options: Partial<DirectorySourceConfig> = {}) {
  const warnings: string[] = [];
  const entries: SourceEntry[] = [];
  const source = sourceOf(options);
  const problems = new SourceProblems([source], (found) => warnings.push(found.message));
  for await (const entry of walkDirectory(source, problems)) {
    entries.push(entry);
  }
  return {
    paths: entries.map((entry) => `${entry.type[0]} ${entry.path}`),
    entries,
    warnings,
    problems: problems.list,
  };
}

async function files(...paths: string[]) {
  for (const path of paths) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), path);
  }
}

describe('walkDirectory', () => {
  it('yields the root, then every entry depth-first in sorted order, each folder before its contents', async () => {
    await files('b.txt', 'a/z.txt', 'a/b/c.txt', 'A.txt');
    await mkdir(join(dir, 'empty'));
    expect((await walk()).paths).toEqual([
      'd src',
      'f src/A.txt',
      'd src/a',
      'd src/a/b',
      'f src/a/b/c.txt',
      'f src/a/z.txt',
      'f src/b.txt',
      'd src/empty',
    ]);
  });

  it('closes every folder it holds open, when done and when stopped part way down', async () => {
    await files('a/b/c/d.txt', 'a/b/c/e.txt', 'a/b/f.txt', 'g.txt');
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    expect((await walk()).paths).toHaveLength(8);
    expect(open()).toBe(before);
    const source = sourceOf();
    const problems = new SourceProblems([source], () => undefined);
    for await (const entry of walkDirectory(source, problems)) {
      if (entry.path !== 'src/a/b/c/d.txt') continue;
      // The root and a, b, c are held open here: the file is opened through its folder.
      expect(open()).toBe(before + 4);
      break;
    }
    expect(open()).toBe(before);
  });

  it('stores symlinks as links and never follows them, even to folders', async () => {
    await files('real/inside.txt');
    await symlink('real', join(dir, 'folder-link'));
    await symlink('/etc/passwd', join(dir, 'abs-link'));
    const { entries, paths } = await walk();
    expect(paths).toEqual([
      'd src',
      's src/abs-link',
      's src/folder-link',
      'd src/real',
      'f src/real/inside.txt',
    ]);
    expect(entries.find((entry) => entry.path === 'src/folder-link')).toMatchObject({
      type: 'symlink',
      target: 'real',
    });
  });

  it('applies exclude globs to paths relative to the root, dot files included, and does not descend excluded folders', async () => {
    await files(
      'keep.txt',
      'drop.tmp',
      'deep/x/drop.tmp',
      '.cache/blob',
      'node_modules/pkg/index.js',
      'sub/node_modules/k',
    );
    const { paths } = await walk({ exclude: ['**/*.tmp', '.cache', '**/node_modules'] });
    expect(paths).toEqual(['d src', 'd src/deep', 'd src/deep/x', 'f src/keep.txt', 'd src/sub']);
  });

  it('with include globs keeps matches plus the folders leading to them, and empty folders that match', async () => {
    await files('docs/a.md', 'docs/img/b.png', 'notes/deep/c.md', 'notes/other.txt', 'top.md', 'skip.txt');
    await mkdir(join(dir, 'notes', 'empty-match'));
    await mkdir(join(dir, 'unrelated-empty'));
    const { paths } = await walk({ include: ['**/*.md', 'notes/empty-match'] });
    expect(paths).toEqual([
      'd src',
      'd src/docs',
      'f src/docs/a.md',
      'd src/notes',
      'd src/notes/deep',
      'f src/notes/deep/c.md',
      'd src/notes/empty-match',
      'f src/top.md',
    ]);
  });

  it('exclude_from adds the globs of a file (one a line, # comments) to exclude', async () => {
    await files('keep.txt', 'a.log', 'cache/x', 'sub/b.log');
    const list = join(dir, '..', `${dir.split('/').pop()}-excludes`);
    await writeFile(list, '# logs\n**/*.log\n\ncache\n');
    try {
      expect((await walk({ exclude_from: list })).paths).toEqual(['d src', 'f src/keep.txt', 'd src/sub']);
    } finally {
      await rm(list, { force: true });
    }
    await expect(walk({ exclude_from: join(dir, 'missing.txt') })).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: expect.stringContaining(`cannot read its exclude_from file ${join(dir, 'missing.txt')}`),
    });
  });

  it('exclude_if_present leaves out a folder holding the tag, with everything in it', async () => {
    await files('keep/a.txt', 'cache/.nobackup', 'cache/big.bin', 'deep/tmp/.nobackup', 'deep/b.txt');
    const { paths, warnings } = await walk({ exclude_if_present: '.nobackup' });
    expect(paths).toEqual(['d src', 'd src/deep', 'f src/deep/b.txt', 'd src/keep', 'f src/keep/a.txt']);
    expect(warnings).toEqual([]);
  });

  it('leaves out the folders it is told to (state, destinations), with a notice', async () => {
    await files('a.txt', 'backups/old.tar.zst', 'state/runs.jsonl');
    const source: DirectorySourceConfig = {
      name: 'src',
      type: 'directory',
      path: dir,
      on_error: 'warn',
      one_file_system: false,
    };
    const warnings: Warning[] = [];
    const skip = await foldersToSkip([
      { path: join(dir, 'backups'), what: 'the folder of destination local' },
      { path: join(dir, 'state'), what: 'the state folder' },
      { path: join(dir, 'not-there'), what: 'the spool folder' },
    ]);
    const paths: string[] = [];
    for await (const entry of walkDirectory(
      source,
      new SourceProblems([source], (found) => warnings.push(found)),
      skip,
    ))
      paths.push(entry.path);
    expect(paths).toEqual(['src', 'src/a.txt']);
    expect(warnings).toEqual([
      {
        code: 'FILE_SKIPPED',
        message: `left out ${join(dir, 'backups')}: it is the folder of destination local`,
        source: 'src',
        path: 'src/backups',
      },
      {
        code: 'FILE_SKIPPED',
        message: `left out ${join(dir, 'state')}: it is the state folder`,
        source: 'src',
        path: 'src/state',
      },
    ]);
  });

  it.runIf(canMount)('one_file_system keeps a mount point empty and does not enter it', async () => {
    await files('a.txt', 'mnt/.keep');
    execFileSync('mount', ['-t', 'tmpfs', 'none', join(dir, 'mnt')]);
    try {
      await writeFile(join(dir, 'mnt', 'other-fs.txt'), 'x');
      expect((await walk()).paths).toContain('f src/mnt/other-fs.txt');
      const { paths, warnings } = await walk({ one_file_system: true });
      expect(paths).toEqual(['d src', 'f src/a.txt', 'd src/mnt']);
      expect(warnings).toEqual([`not entered ${join(dir, 'mnt')}: another file system (one_file_system)`]);
    } finally {
      execFileSync('umount', [join(dir, 'mnt')]);
    }
  });

  it.runIf(canMount)(
    'lists names past ASCII on a file system that gives no entry types (ext2 without filetype)',
    async () => {
      await withLoopDisk(
        dir,
        8,
        async (disk) => {
          const root = Buffer.from(`${disk}/`);
          await writeFile(Buffer.concat([root, Buffer.from('caf\xc3\xa9', 'latin1')]), 'utf-8 name');
          await writeFile(Buffer.concat([root, Buffer.from('lat\xe9', 'latin1')]), 'latin-1 name');
          await mkdir(Buffer.concat([root, Buffer.from('dir\xff', 'latin1')]));
          await writeFile(Buffer.concat([root, Buffer.from('dir\xff/inner', 'latin1')]), 'inside');
          const { paths, warnings } = await walk({ path: disk });
          expect(warnings).toEqual([]);
          expect(paths).toEqual([
            'd src',
            'f src/café',
            'd src/dir\udcff',
            'f src/dir\udcff/inner',
            'f src/lat\udce9',
            'd src/lost+found',
          ]);
        },
        ['-O', '^filetype'],
      );
    },
  );

  it('include and exclude together: exclude wins', async () => {
    await files('docs/a.md', 'docs/private/b.md');
    const { paths } = await walk({ include: ['docs/**'], exclude: ['docs/private'] });
    expect(paths).toEqual(['d src', 'd src/docs', 'f src/docs/a.md']);
  });

  describe('special files', () => {
    let server: Server | undefined;
    afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

    it('skips sockets and FIFOs with a warning naming them', async () => {
      await files('a.txt');
      server = createServer();
      await new Promise<void>((resolve) => server!.listen(join(dir, 'app.sock'), resolve));
      execFileSync('mkfifo', [join(dir, 'pipe')]);
      const { paths, warnings } = await walk();
      expect(paths).toEqual(['d src', 'f src/a.txt']);
      expect(warnings).toEqual([
        `skipped socket ${join(dir, 'app.sock')}: only files, folders and symbolic links are backed up`,
        `skipped FIFO ${join(dir, 'pipe')}: only files, folders and symbolic links are backed up`,
      ]);
    });

    it('does not warn about special files that are excluded anyway', async () => {
      execFileSync('mkfifo', [join(dir, 'pipe')]);
      expect((await walk({ exclude: ['pipe'] })).warnings).toEqual([]);
    });
  });

  it('an unreadable folder is stored empty with an UNREADABLE warning; the rest goes on', async () => {
    await files('open/a.txt', 'locked/secret.txt', 'z.txt');
    await chmod(join(dir, 'locked'), 0o000);
    const { paths, problems, warnings } = await asUnprivilegedUser(dir, () => walk());
    expect(paths).toEqual(['d src', 'd src/locked', 'd src/open', 'f src/open/a.txt', 'f src/z.txt']);
    expect(problems).toEqual([{ code: 'UNREADABLE', path: 'src/locked', reason: 'permission denied' }]);
    expect(warnings).toEqual([`source src: ${join(dir, 'locked')}: permission denied (UNREADABLE)`]);
  });

  it('with on_error: fail an unreadable folder fails with SOURCE_FAILED naming it', async () => {
    await files('open/a.txt', 'locked/secret.txt');
    await chmod(join(dir, 'locked'), 0o000);
    const error = await asUnprivilegedUser(dir, () => walk({ on_error: 'fail' })).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MatricError);
    expect(error).toMatchObject({ code: 'SOURCE_FAILED' });
    expect((error as Error).message).toBe(
      `source src: cannot read ${join(dir, 'locked')}: permission denied (EACCES)`,
    );
  });

  it('an unreadable root fails with SOURCE_FAILED: a source that yields nothing is not a warning', async () => {
    await files('root/a.txt');
    await chmod(join(dir, 'root'), 0o000);
    const error = await asUnprivilegedUser(dir, () => walk({ path: join(dir, 'root') })).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({
      code: 'SOURCE_FAILED',
      message: `source src: cannot read ${join(dir, 'root')}: permission denied (EACCES)`,
    });
  });

  it('fails with SOURCE_FAILED when the root is missing or not a folder', async () => {
    await expect(walk({ path: join(dir, 'missing') })).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: `source src: ${join(dir, 'missing')} does not exist`,
    });
    await files('file');
    await expect(walk({ path: join(dir, 'file') })).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: `source src: ${join(dir, 'file')} is not a folder`,
    });
  });
});
