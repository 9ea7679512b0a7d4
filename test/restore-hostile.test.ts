import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { Destination } from '@matric-backup/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BuildOptions,
  buildShard,
  type FixtureEntry,
  sha256,
} from '../packages/core/test/fixtures/read/build-shard.js';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import { snapshotTree } from './helpers/tree.js';

const STACK_LINE = /^\s+at /m;

// Archives a careless extractor would let write outside the target, or fill the
// disk (a symbolic link alone is not one: links are restored as links, whatever
// they point to; an entry to be written through one is), each stored on a local destination as the run pipeline would store it.
// Every one must be refused by the built CLI with exit 1, a message naming what
// is wrong, no stack trace, and the target (already holding files, restored
// into with --conflict overwrite, the most permissive mode) exactly as it was.
const tree: FixtureEntry[] = [
  { path: 'notes', type: 'directory' },
  { path: 'notes/a.txt', type: 'file', content: 'from the shard\n' },
  { path: 'notes/sub', type: 'directory' },
  { path: 'notes/sub/b.txt', type: 'file', content: 'b\n' },
];

const grow = (bytes: number) => (sidecar: { size_bytes: number }) => {
  sidecar.size_bytes += bytes;
};

const hostile: Array<[string, Partial<BuildOptions>, RegExp]> = [
  [
    'path traversal (..)',
    {
      raw: [{ header: { name: 'notes/../../outside', type: 'file', size: 4 }, content: Buffer.from('evil') }],
      editSidecar: grow(4),
    },
    /"notes\/\.\.\/\.\.\/outside": path contains \.\./,
  ],
  [
    'an absolute path',
    {
      raw: [{ header: { name: '/tmp/outside', type: 'file', size: 4 }, content: Buffer.from('evil') }],
      editSidecar: grow(4),
    },
    /"\/tmp\/outside": absolute path/,
  ],
  [
    'a hard link escaping the target',
    { raw: [{ header: { name: 'notes/hard', type: 'link', linkname: '../../outside' } }] },
    /notes\/hard: hard link to "\.\.\/\.\.\/outside" points outside the restore target/,
  ],
  [
    'a device entry',
    { raw: [{ header: { name: 'notes/null', type: 'character-device', devmajor: 1, devminor: 3 } }] },
    /notes\/null: character-device entries are never restored/,
  ],
  [
    'a bomb: 64 MiB of zeros whose sidecar declares a few bytes',
    {
      raw: [
        {
          header: { name: 'notes/bomb', type: 'file', size: 64 * 1024 * 1024 },
          content: Buffer.alloc(64 * 1024 * 1024),
        },
      ],
    },
    /notes\/bomb: the archive holds more than the \d+ bytes of files its manifest declares/,
  ],
  [
    'a wrong checksum in the sidecar',
    {
      editSidecar: (sidecar) => {
        sidecar.checksum = `sha256:${'0'.repeat(64)}`;
      },
    },
    /stored object checksum sha256:[0-9a-f]{64} does not match the sidecar's sha256:0{64}/,
  ],
];

describe('restore refuses hostile archives and leaves the target as it was', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let n = 0;

  beforeAll(async () => {
    work = await tempDir('mb-e2e-hostile-');
  });
  afterAll(() => work.cleanup());

  /** A case folder: a local destination holding the shard, a config, a target with files in it. */
  async function setup(options: Partial<BuildOptions>) {
    const dir = join(work.path, `case-${++n}`);
    const backups = join(dir, 'backups');
    await mkdir(backups, { recursive: true });
    const built = await buildShard(folderStore(backups), { entries: tree, ...options });
    const config = await writeConfig(dir, {
      sources: [{ name: 'notes', type: 'directory', path: join(dir, 'unused') }],
      destinations: [{ name: 'disk', type: 'local', path: backups }],
    });
    const target = join(dir, 'target');
    await mkdir(join(target, 'notes'), { recursive: true });
    await writeFile(join(target, 'notes/a.txt'), 'mine, keep me\n');
    await writeFile(join(target, 'precious.txt'), 'precious\n');
    return { dir, backups, config, target, ...built };
  }

  async function expectRefused(
    args: string[],
    { dir, target }: { dir: string; target: string },
    message: RegExp,
  ): Promise<void> {
    const before = await snapshotTree(target);
    const restore = await runCli(args);
    expect(restore.stderr).toMatch(message);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(/^error: /m);
    expect(restore.stderr).not.toMatch(STACK_LINE);
    expect(await snapshotTree(target)).toEqual(before);
    // No temporary folder left beside the target, nothing written next to it.
    const expected = new Set(['backup.yaml', 'backups', 'state', 'target']);
    expect((await readdir(dir)).filter((name) => !expected.has(name))).toEqual([]);
  }

  it.each(hostile)('%s', async (_name, options, message) => {
    const c = await setup(options);
    const args = ['restore', c.manifest.id, '--to', c.target, '--conflict', 'overwrite', '-c', c.config];
    await expectRefused(args, c, message);
  });

  // A link to a folder outside, and a file under it: written in order, the file would land outside.
  it.each([
    ['the link first', ['link', 'file']],
    ['the file first', ['file', 'link']],
  ])('a file under a symbolic link entry (%s)', async (_name, order) => {
    const outside = join(work.path, `outside-${order.join('-')}`);
    await mkdir(outside);
    await writeFile(join(outside, 'sentinel'), 'untouched\n');
    const entries = {
      link: { header: { name: 'notes/a', type: 'symlink' as const, linkname: outside } },
      file: {
        header: { name: 'notes/a/evil', type: 'file' as const, size: 4 },
        content: Buffer.from('evil'),
      },
    };
    const c = await setup({
      raw: order.map((name) => entries[name as 'link' | 'file']),
      editSidecar: grow(4),
    });
    const args = ['restore', c.manifest.id, '--to', c.target, '--conflict', 'overwrite', '-c', c.config];
    await expectRefused(
      args,
      c,
      order[0] === 'link'
        ? /notes\/a\/evil: would be written through the symbolic link notes\/a/
        : /notes\/a: a symbolic link, and a folder of other entries in the archive: nothing is written through a link/,
    );
    expect(await readdir(outside)).toEqual(['sentinel']);
  });

  it('a truncated archive (with a sidecar that matches it)', async () => {
    const c = await setup({});
    const truncated = c.archive.subarray(0, c.archive.length - 60);
    await writeFile(join(c.backups, c.manifest.object.name), truncated);
    await writeFile(
      join(c.backups, `${c.manifest.id}.manifest.json`),
      JSON.stringify({
        ...c.manifest,
        object: { ...c.manifest.object, size: truncated.length },
        checksum: `sha256:${sha256(truncated)}`,
      }),
    );
    const args = ['restore', c.manifest.id, '--to', c.target, '--conflict', 'overwrite', '-c', c.config];
    await expectRefused(args, c, /failed its checks.*left unchanged:\n\s+.*archive unreadable/);
  });

  it('more than --max-bytes', async () => {
    const c = await setup({});
    const args = [
      'restore',
      'latest',
      '--to',
      c.target,
      '--conflict',
      'overwrite',
      '--max-bytes',
      '10',
      '-c',
      c.config,
    ];
    await expectRefused(args, c, /holds 17 bytes of files, more than --max-bytes 10/);
  });
});

/** Enough of a Destination for buildShard: objects become files, as the local plugin stores them. */
function folderStore(folder: string): Destination {
  return {
    async put(key: string, body: Readable) {
      await writeFile(join(folder, key), await buffer(body));
    },
  } as unknown as Destination;
}
