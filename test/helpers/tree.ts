import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';

/** One entry of a folder tree as a restore must reproduce it. */
export interface TreeEntry {
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits. */
  mode: number;
  /** Whole seconds: tar headers store mtimes in seconds. */
  mtime: number;
  size?: number;
  sha256?: string;
  target?: string;
}

/** Every entry under `root`, keyed by its relative POSIX path; the root itself is not included. */
export async function snapshotTree(root: string): Promise<Map<string, TreeEntry>> {
  const entries = new Map<string, TreeEntry>();
  const walk = async (relative: string): Promise<void> => {
    const names = (await readdir(join(root, relative))).sort();
    // One folder's entries in parallel (10,000 small files would take long one by one), folders in order.
    const found = await Promise.all(
      names.map(async (name): Promise<[string, TreeEntry]> => {
        const path = relative ? `${relative}/${name}` : name;
        const full = join(root, path);
        const info = await lstat(full);
        const base = { mode: info.mode & 0o7777, mtime: Math.floor(info.mtimeMs / 1000) };
        // A link's own mode and mtime are not portable (Linux ignores them), so only its target counts.
        if (info.isSymbolicLink())
          return [path, { type: 'symlink', mode: 0, mtime: 0, target: await readlink(full) }];
        if (info.isDirectory()) return [path, { type: 'directory', ...base }];
        return [path, { type: 'file', ...base, size: info.size, sha256: await sha256File(full, info.size) }];
      }),
    );
    for (const [path, entry] of found) {
      entries.set(path, entry);
      if (entry.type === 'directory') await walk(path);
    }
  };
  await walk('');
  return entries;
}

/** Human-readable differences between two trees; empty when they are equal. */
export async function diffTrees(expectedRoot: string, actualRoot: string): Promise<string[]> {
  const [expected, actual] = await Promise.all([snapshotTree(expectedRoot), snapshotTree(actualRoot)]);
  const problems: string[] = [];
  for (const [path, want] of expected) {
    const got = actual.get(path);
    if (!got) {
      problems.push(`missing: ${path}`);
      continue;
    }
    for (const key of ['type', 'mode', 'mtime', 'size', 'sha256', 'target'] as const) {
      if (want[key] !== got[key]) {
        const show = (value: unknown) =>
          key === 'mode' && typeof value === 'number' ? value.toString(8) : String(value);
        problems.push(`${path}: ${key} ${show(got[key])}, expected ${show(want[key])}`);
      }
    }
  }
  for (const path of actual.keys()) if (!expected.has(path)) problems.push(`unexpected: ${path}`);
  return problems;
}

export async function sha256File(path: string, size = Number.POSITIVE_INFINITY): Promise<string> {
  // A stream per small file costs more than the hashing; read those whole.
  if (size < 1024 * 1024)
    return createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface GeneratedTree {
  files: number;
  bytes: number;
}

/**
 * The tree of the end-to-end tests: nested and empty folders, symlinks (to a
 * file and to a folder), a 0-byte file, names with spaces and unicode, unusual
 * modes, one big random file and many small ones. Every mtime is set to a
 * distinct moment in the past, so a restore that does not restore mtimes
 * cannot pass by accident.
 */
export async function generateTree(
  root: string,
  options: { bigFileBytes: number; smallFiles: number },
): Promise<GeneratedTree> {
  let files = 0;
  let bytes = 0;
  const folders = new Map<string, Promise<unknown>>();
  const file = async (path: string, content: string | Buffer, mode = 0o644) => {
    const folder = join(root, path, '..');
    if (!folders.has(folder)) folders.set(folder, mkdir(folder, { recursive: true }));
    await folders.get(folder);
    await writeFile(join(root, path), content, { mode });
    // The umask may have cleared bits of an unusual mode; the common one may stay as the umask left it.
    if (mode !== 0o644) await chmod(join(root, path), mode);
    files++;
    bytes += Buffer.byteLength(content);
  };

  await file('README.md', '# generated tree\n');
  await file('zero-bytes.bin', '');
  await file('nested/a/b/c/deep.txt', 'deep inside\n');
  await file('with space/file name with spaces.txt', 'spaces\n');
  await file('ünïcödé/数据 🎉 ñ.txt', 'unicode\n');
  await file('modes/run.sh', '#!/bin/sh\necho hi\n', 0o755);
  await file('modes/secret.txt', 'only me\n', 0o600);
  await file('modes/read-only.txt', 'do not touch\n', 0o444);
  await mkdir(join(root, 'empty'), { recursive: true });
  await mkdir(join(root, 'nested/empty-too'), { recursive: true });
  await mkdir(join(root, 'modes/private'), { recursive: true });
  await chmod(join(root, 'modes/private'), 0o700);
  await symlink('nested/a/b/c/deep.txt', join(root, 'link-to-file'));
  await symlink('../nested/a', join(root, 'with space/link to folder'));

  if (options.bigFileBytes > 0) await file('big/random.bin', randomBytes(options.bigFileBytes));

  const perFolder = 100;
  for (let start = 0; start < options.smallFiles; start += perFolder) {
    const folder = `many/${String(start / perFolder).padStart(3, '0')}`;
    const batch = [];
    for (let i = start; i < Math.min(start + perFolder, options.smallFiles); i++) {
      batch.push(
        file(`${folder}/file-${String(i).padStart(5, '0')}.txt`, `small file ${i}\n${'x'.repeat(i % 300)}`),
      );
    }
    await Promise.all(batch);
  }

  await setPastMtimes(root);
  return { files, bytes };
}

/** Distinct past mtimes, children before their folder (writing into a folder changes its mtime). */
async function setPastMtimes(root: string): Promise<void> {
  let tick = Date.UTC(2021, 2, 4, 5, 6, 7) / 1000;
  const visit = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) await visit(full);
      const at = tick++;
      await utimes(full, at, at);
    }
  };
  await visit(root);
}
