import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
const under = (root: string, ...names: Buffer[]) =>
  Buffer.concat([Buffer.from(root), ...names.flatMap((name) => [Buffer.from('/'), name])]);

/** Every entry below `root` by its raw relative path: type, mode, content or link target. */
function listing(root: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (relative: Buffer[]) => {
    const folder = under(root, ...relative);
    for (const name of readdirSync(folder, { encoding: 'buffer' })) {
      const path = [...relative, name];
      const full = under(root, ...path);
      const info = lstatSync(full);
      const key = Buffer.concat(path.flatMap((part) => [part, Buffer.from('/')])).toString('hex');
      if (info.isFIFO()) found.set(key, 'fifo');
      else if (info.isSymbolicLink())
        found.set(key, `link ${readlinkSync(full, { encoding: 'buffer' }).toString('hex')}`);
      else if (info.isDirectory()) {
        found.set(key, `dir ${(info.mode & 0o7777).toString(8)}`);
        walk(path);
      } else found.set(key, `file ${(info.mode & 0o7777).toString(8)} ${readFileSync(full).toString('hex')}`);
    }
  };
  walk([]);
  return found;
}

describe('names that are not UTF-8 round-trip byte for byte', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let data: string;
  let config: string;
  let store: string;

  beforeAll(async () => {
    work = await tempDir();
    data = join(work.path, 'data');
    mkdirSync(data);
    const folder = bytes('dir-', [0xff, 0xfe]);
    mkdirSync(under(data, folder));
    writeFileSync(under(data, folder, bytes('caf', [0xe9], '.txt')), 'latin1 name\n');
    writeFileSync(under(data, bytes('caf', [0xc3, 0xa9])), 'utf-8 name\n');
    symlinkSync(bytes('target-', [0xfd]), under(data, bytes('link-', [0xfc])));
    // Longer than a ustar name field: a GNU long-name entry, and a long link target.
    const deep = [Buffer.alloc(60, 0xfa), Buffer.alloc(90, 0xfb)];
    mkdirSync(under(data, ...deep), { recursive: true });
    writeFileSync(under(data, ...deep, Buffer.alloc(120, 0xfc)), 'long\n');
    symlinkSync(Buffer.alloc(150, 0xf0), under(data, bytes('long-link')));
    // An argument string is passed as UTF-8: printf makes the raw byte.
    execFileSync('sh', ['-c', `mkfifo "$1/fifo-$(printf '\\377')"`, 'sh', data]);
    store = join(work.path, 'store');
    config = await writeConfig(work.path, {
      sources: [{ name: 'data', type: 'directory', path: data }],
      destinations: [{ name: 'local', type: 'local', path: store }],
    });
  });
  afterAll(() => work.cleanup());

  it('run, verify and restore keep every name; GNU tar extracts the same bytes', async () => {
    const run = await runCli(['run', '-c', config]);
    expect(run.code, run.stderr).toBe(0);
    // Printed names show raw bytes escaped.
    expect(run.stderr).toContain(
      `skipped FIFO ${data}/fifo-\\xff: only files, folders and symbolic links are backed up`,
    );

    expect((await runCli(['verify', '--latest', '-c', config])).code).toBe(0);
    const plan = await runCli([
      'restore',
      'latest',
      '--to',
      join(work.path, 'planned'),
      '--dry-run',
      '-c',
      config,
    ]);
    expect(plan.stdout).toMatch(/^create\s+data\/dir-\\xff\\xfe\/caf\\xe9\.txt$/m);
    const restored = join(work.path, 'restored');
    const restore = await runCli(['restore', 'latest', '--to', restored, '-c', config]);
    expect(restore.code, restore.stderr).toBe(0);

    const expected = listing(data);
    expected.delete(bytes('fifo-', [0xff], '/').toString('hex'));
    expect(expected.size).toBe(8);
    expect(listing(join(restored, 'data'))).toEqual(expected);

    const archive = join(store, (await readdir(store)).find((name) => name.endsWith('.tar.zst'))!);
    const gnu = join(work.path, 'gnu');
    mkdirSync(gnu);
    execFileSync('tar', ['--zstd', '-xf', archive, '-C', gnu]);
    expect(listing(join(gnu, 'data'))).toEqual(expected);
  });
});
