import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import {
  appendFile,
  link,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryDestination } from '@matric-backup/destination-testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { APPEND_MIN_BYTES, ChangeDetector } from '../src/incremental/changes.js';
import type { FileRecord } from '../src/incremental/file-list.js';
import { FileWriter, type WrittenFile } from '../src/restore/file-writer.js';
import { restoreShard } from '../src/restore/restore.js';
import { runBackup } from '../src/run/run.js';
import { findShard } from '../src/shard/catalog.js';
import { resolveChain } from '../src/shard/chain.js';
import { EntryGuard, RefusedEntry } from '../src/shard/entry-guard.js';
import { readInnerManifest } from '../src/shard/inner-manifest.js';
import type { InnerManifest } from '../src/shard/manifest.js';
import { parseInnerManifest } from '../src/shard/manifest-schema.js';
import { verifyShard } from '../src/shard/verify.js';
import { walkDirectorySync } from '../src/sources/directory.js';
import { SourceProblems } from '../src/sources/problems.js';
import type { SourceEntry } from '../src/sources/types.js';
import { buildShard, MTIME } from './fixtures/read/build-shard.js';
import { memoryDestination as fixtureDestination } from './fixtures/read/memory-destination.js';
import { snapshot } from './fixtures/restore/snapshot.js';
import { setupRun, type TestSetup } from './fixtures/run/config.js';
import { asUnprivilegedUser } from './fixtures/run/unprivileged.js';

const BASE_ID = 'backup_20240517_103015_abcdefgh';
const INC_ID = 'backup_20240518_103015_abcdefgh';
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('the change detector marks files that may only have grown', () => {
  it('of one name, at least APPEND_MIN_BYTES before, bigger now, with a record of the state folder', async () => {
    const dir = await tempDir('mb-append-detect-');
    const big = randomBytes(APPEND_MIN_BYTES);
    await writeFile(join(dir, 'log'), big);
    await writeFile(join(dir, 'linked'), big);
    await link(join(dir, 'linked'), join(dir, 'other-name'));
    await writeFile(join(dir, 'small'), 'a few bytes\n');
    await writeFile(join(dir, 'shrinks'), big);
    await writeFile(join(dir, 'rebuilt'), big);
    const source = {
      name: 'src',
      type: 'directory' as const,
      path: dir,
      on_error: 'warn' as const,
      one_file_system: false,
    };
    const scan = (parent?: ReadonlyMap<string, FileRecord>) => {
      const records = new Map<string, FileRecord>();
      const detector = new ChangeDetector({
        parent,
        compare: 'metadata',
        commandSources: new Set(),
        onRecord: (record) => records.set(record.path, record),
        warnings: [],
      });
      const files = new Map<string, Extract<SourceEntry, { type: 'file' }>>();
      for (const entry of detector.select(
        walkDirectorySync(source, new SourceProblems([source], () => {})),
      )) {
        if (entry.type !== 'file') continue;
        files.set(entry.path, entry);
        const file = join(dir, entry.path.slice('src/'.length));
        detector.archived(entry.path, sha256(readFileSync(file)), lstatSync(file));
      }
      return { files, records };
    };
    const first = scan();
    expect([...first.files.values()].every((entry) => entry.grewFrom === undefined)).toBe(true);
    const parent = new Map(first.records);
    // A record rebuilt from a shard's manifest: no ctime, inode or count of names.
    const {
      ctime: _c,
      ino: _i,
      ...rebuilt
    } = parent.get('src/rebuilt') as Extract<FileRecord, { type: 'file' }>;
    parent.set('src/rebuilt', rebuilt);

    for (const name of ['log', 'linked', 'small', 'rebuilt'])
      await appendFile(join(dir, name), 'one more line\n');
    await truncate(join(dir, 'shrinks'), 1000);
    const second = scan(parent);
    expect(Object.fromEntries([...second.files].map(([path, entry]) => [path, entry.grewFrom]))).toEqual({
      'src/log': { size: big.length, sha256: sha256(big) },
      'src/linked': undefined,
      'src/other-name': undefined,
      'src/small': undefined,
      'src/shrinks': undefined,
      'src/rebuilt': undefined,
    });
  });
});

describe('a file that only grew, through a run and a restore', () => {
  let setup: TestSetup | undefined;
  afterEach(async () => {
    await setup?.cleanup();
    setup = undefined;
  });

  it('is stored as the bytes it gained, restored whole at every point (to a folder, in place, dry run) and verified', async () => {
    setup = await setupRun({
      sources: (dir) => [{ name: 'data', type: 'directory', path: join(dir, 'data') }],
      backup: { incremental: {} },
    });
    const data = join(setup.dir, 'data');
    await mkdir(data);
    const log = randomBytes(256 * 1024);
    await writeFile(join(data, 'log'), log);
    await writeFile(join(data, 'rewritten'), randomBytes(128 * 1024));
    await writeFile(join(data, 'shrinks'), randomBytes(128 * 1024));
    const points: Array<{ id: string; tree: Record<string, string> }> = [];
    const run = async (day: number) => {
      const result = await runBackup(setup!.config, { now: new Date(Date.UTC(2026, 0, day, 2)) });
      expect(result.status).toBe('success');
      points.push({ id: result.id!, tree: await snapshot(data) });
      return result;
    };
    expect((await run(17)).type).toBe('full');

    await appendFile(join(data, 'log'), 'day two\n');
    // It grew, but its start changed too: stored whole.
    const rewritten = await readFile(join(data, 'rewritten'));
    rewritten[0] = rewritten[0]! ^ 0xff;
    await writeFile(join(data, 'rewritten'), Buffer.concat([rewritten, Buffer.from('more\n')]));
    await truncate(join(data, 'shrinks'), 1000);
    await run(18);
    await appendFile(join(data, 'log'), randomBytes(5000));
    const third = await run(19);

    const from = memoryDestination(setup.store('primary'));
    const manifests = await Promise.all(points.map((point) => findShard(from, point.id)));
    const second = await readInnerManifest(from, manifests[1]!);
    const entry = (inner: InnerManifest, path: string) => inner.entries.find((e) => e.path === path);
    expect(entry(second, 'data/log')).toMatchObject({
      size: log.length + 8,
      append: { from: log.length, from_sha256: sha256(log), sha256: sha256(Buffer.from('day two\n')) },
    });
    expect(entry(second, 'data/rewritten')?.append).toBeUndefined();
    expect(entry(second, 'data/shrinks')?.append).toBeUndefined();
    // The third shard holds the 5000 bytes the log gained and little else.
    expect(manifests[2]!.size_bytes).toBe(5000);
    expect(entry(await readInnerManifest(from, manifests[2]!), 'data/log')?.append?.from).toBe(
      log.length + 8,
    );

    for (const [index, point] of points.entries()) {
      const manifest = manifests[index]!;
      const chain = await resolveChain(from, manifest);
      const to = join(setup.dir, `restored-${index}`);
      await restoreShard({ from, manifest, chain, to });
      expect(await snapshot(join(to, 'data')), `point ${index}`).toEqual(point.tree);
      await restoreShard({ from, manifest, chain, to: join(setup.dir, `dry-${index}`), dryRun: true });
      expect((await verifyShard(from, manifest)).problems).toEqual([]);
    }
    // Only the log, from the last point: its chain's bytes, nothing else.
    const only = join(setup.dir, 'only-log');
    const last = manifests[2]!;
    await restoreShard({
      from,
      manifest: last,
      chain: await resolveChain(from, last),
      to: only,
      include: ['data/log'],
    });
    expect(await snapshot(only)).toEqual({ data: expect.any(String), 'data/log': points[2]!.tree.log });
    // In place, over the tree as it is now: back to the second point.
    const chain = await resolveChain(from, manifests[1]!);
    await restoreShard({ from, manifest: manifests[1]!, chain, inPlace: true, conflict: 'overwrite' });
    expect(await snapshot(data)).toEqual(points[1]!.tree);
    expect(third.type).toBe('incremental');
  });
});

describe('restoring bytes appended to a file', () => {
  const before = randomBytes(70_000);
  const gained = Buffer.from('appended\n');

  /** A base with notes/log, and an incremental appending to it as the packer does, edited by `edit`. */
  async function chain(
    edit: (append: NonNullable<InnerManifest['entries'][number]['append']>) => void = () => {},
  ) {
    const dest = fixtureDestination();
    await buildShard(dest, { id: BASE_ID, entries: [{ path: 'notes/log', type: 'file', content: before }] });
    const built = await buildShard(dest, {
      id: INC_ID,
      createdAt: MTIME + 1000,
      entries: [{ path: 'notes/log', type: 'file', content: gained, mtime: MTIME + 1000 }],
      omit: ['notes/log'],
      raw: [
        {
          header: { name: '.matric-appended/notes/log', type: 'file', mode: 0o644, size: gained.length },
          content: gained,
        },
      ],
      increment: { parent: BASE_ID, base: BASE_ID, length: 1 },
      editInner: (inner) => {
        const append = { from: before.length, from_sha256: sha256(before), sha256: sha256(gained) };
        edit(append);
        Object.assign(inner.entries[0]!, {
          size: before.length + gained.length,
          sha256: sha256(Buffer.concat([before, gained])),
          append,
        });
      },
    });
    return { dest, manifest: built.manifest, links: await resolveChain(dest, built.manifest) };
  }

  it('restores the whole file from the base and the appended bytes', async () => {
    const { dest, manifest, links } = await chain();
    const to = join(await tempDir('mb-append-restore-'), 'out');
    await restoreShard({ from: dest, manifest, chain: links, to });
    expect((await readFile(join(to, 'notes/log'))).equals(Buffer.concat([before, gained]))).toBe(true);
  });

  it.each([
    ['another start', (append: { from_sha256: string }) => (append.from_sha256 = sha256(Buffer.from('x')))],
    ['another size', (append: { from: number }) => (append.from -= 1)],
  ])(
    'refuses appended bytes that do not fit the file before them (%s), naming shard and path, target unchanged',
    async (_, edit) => {
      const { dest, manifest, links } = await chain(edit as never);
      const parent = await tempDir('mb-append-misfit-');
      const to = join(parent, 'out');
      for (const dryRun of [false, true]) {
        const error = await restoreShard({ from: dest, manifest, chain: links, to, dryRun }).catch((e) => e);
        expect(error.code, String(error.message)).toBe('VERIFY_FAILED');
        expect(error.message).toContain(INC_ID);
        expect(error.message).toContain('notes/log: ');
      }
      expect(await readdir(parent)).toEqual([]);
    },
  );

  it('refuses appended bytes that differ from their sha256 (verify names them too)', async () => {
    const { dest, manifest, links } = await chain((append) => (append.sha256 = sha256(Buffer.from('other'))));
    const to = join(await tempDir('mb-append-bytes-'), 'out');
    const error = await restoreShard({ from: dest, manifest, chain: links, to, dryRun: true }).catch(
      (e) => e,
    );
    expect(error.code).toBe('VERIFY_FAILED');
    expect(error.message).toContain('notes/log: appended bytes differ from the manifest');
    expect((await verifyShard(dest, manifest)).problems).toMatchObject([
      { path: 'notes/log', code: 'CONTENT_MISMATCH' },
    ]);
  });
});

describe('the inner manifest and appended bytes', () => {
  const file = (append: object, size = 10) => ({
    path: 'notes/log',
    type: 'file',
    mode: 0o644,
    mtime: MTIME,
    size,
    sha256: 'a'.repeat(64),
    append: { from: 4, from_sha256: 'b'.repeat(64), sha256: 'c'.repeat(64), ...append },
  });
  const document = (type: 'full' | 'incremental', entry: object) =>
    JSON.stringify({
      version: '1.0.0',
      format: 'matric-backup',
      id: INC_ID,
      created_at: new Date(MTIME).toISOString(),
      sources: ['notes'],
      type,
      ...(type === 'incremental' && { parent: BASE_ID, base: BASE_ID, deleted: [] }),
      entries: [entry],
    });

  it('reads an append in an incremental shard, and refuses one in a full shard or past the file', () => {
    expect(parseInnerManifest(document('incremental', file({}))).entries[0]!.append).toEqual({
      from: 4,
      from_sha256: 'b'.repeat(64),
      sha256: 'c'.repeat(64),
    });
    expect(() => parseInnerManifest(document('full', file({})))).toThrow(/entries\.0\.append: does not fit/);
    expect(() => parseInnerManifest(document('incremental', file({ from: 10 })))).toThrow(
      /entries\.0\.append/,
    );
    expect(() => parseInnerManifest(document('incremental', file({ sha256: 'x' })))).toThrow(
      /entries\.0\.append/,
    );
  });

  it.each([
    ['directory', {}],
    ['symlink', { target: 'log' }],
  ])('refuses an append on a %s entry, naming it', (type, fields) => {
    const { size: _size, sha256: _sha256, ...rest } = file({});
    const entry = { ...rest, type, ...fields };
    expect(() => parseInnerManifest(document('incremental', entry))).toThrow(
      `entries.0.append: only a file entry can have appended bytes, not a ${type}`,
    );
  });
});

describe('the entry guard and appended bytes', () => {
  it('lets only file entries under .matric-appended/ through, and no hard link may name them', () => {
    const limits = { entries: 100, fileBytes: 1000, innerManifestBytes: 1000, tarBytes: 10_000 };
    const guard = new EntryGuard(limits);
    expect(guard.check({ name: '.matric-appended/notes/log', type: 'file', size: 5 })).toEqual({
      path: '.matric-appended/notes/log',
      kind: 'file',
    });
    expect(() =>
      guard.check({ name: 'notes/h', type: 'link', size: 0, linkname: '.matric-appended/notes/log' }),
    ).toThrow('does not name a file earlier in the archive');
    for (const type of ['symlink', 'directory', 'link'])
      expect(() =>
        new EntryGuard(limits).check({ name: '.matric-appended/notes/x', type, size: 0, linkname: 'y' }),
      ).toThrow(`.matric-appended/notes/x: a ${type} entry where only bytes appended to a file may be`);
  });
});

describe("the restore writer's append", () => {
  it('appends to a file of the tree, reporting the whole file, and refuses anything but a file of its own', async () => {
    const tree = await tempDir('mb-append-tree-');
    const root = await tempDir('mb-append-link-');
    const start = randomBytes(3 * 1024 * 1024 + 5);
    await mkdir(join(tree, 'd'));
    await writeFile(join(tree, 'd/file'), start);
    await writeFile(join(tree, 'd/two-names'), 'x');
    await link(join(tree, 'd/two-names'), join(tree, 'd/other'));
    await symlink('file', join(tree, 'd/link'));
    await mkdir(join(tree, 'real'));
    await writeFile(join(tree, 'real/file'), 'y');
    await symlink('real', join(tree, 'via'));

    const written: WrittenFile[] = [];
    const writer = new FileWriter(root, (file) => written.push(file), undefined, { root: tree });
    const mtimeMs = Date.UTC(2025, 1, 2, 3, 4, 5, 600);
    const more = randomBytes(4096 * 3);
    more.fill(0, 0, 8192);
    writer.append('d/file', 0o640, mtimeMs);
    writer.write(more);
    writer.close();
    await writer.finish();
    const whole = Buffer.concat([start, more]);
    expect(written).toEqual([
      {
        path: 'd/file',
        size: whole.length,
        sha256: sha256(whole),
        mode: 0o640,
        mtimeMs,
        appendedTo: start.length,
      },
    ]);
    expect((await readFile(join(tree, 'd/file'))).equals(whole)).toBe(true);

    for (const path of ['d/two-names', 'd/link', 'd/missing', 'via/file', 'd']) {
      const refusing = new FileWriter(root, () => {}, undefined, { root: tree });
      refusing.append(path, 0o644, mtimeMs);
      refusing.write(Buffer.from('z'));
      refusing.close();
      const error = await refusing.finish().catch((e) => e);
      expect(error, path).toBeInstanceOf(RefusedEntry);
      expect(error.message, path).toMatch(new RegExp(`^${path}: `));
    }
    expect(await readFile(join(tree, 'real/file'), 'utf8')).toBe('y');
    expect(await readFile(join(tree, 'd/two-names'), 'utf8')).toBe('x');
  });

  it('appends to a read-only file when not root, giving it its mode again', async () => {
    const tree = await tempDir('mb-append-ro-');
    const written: WrittenFile[] = [];
    await asUnprivilegedUser(tree, async () => {
      await writeFile(join(tree, 'ro'), 'start\n', { mode: 0o444 });
      const writer = new FileWriter(tree, (file) => written.push(file), undefined, { root: tree });
      writer.append('ro', 0o440, MTIME);
      writer.write(Buffer.from('more\n'));
      writer.close();
      await writer.finish();
    });
    expect(await readFile(join(tree, 'ro'), 'utf8')).toBe('start\nmore\n');
    expect(((await stat(join(tree, 'ro'))).mode & 0o7777).toString(8)).toBe('440');
    expect(written).toMatchObject([{ path: 'ro', size: 11, mode: 0o440, appendedTo: 6 }]);
  });
});
