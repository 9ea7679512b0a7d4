import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import { expectDocument } from './helpers/json-schema.js';

/** The CLI's stdout as bytes, not text: a dumped binary file must come out exact. */
function runCliBytes(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }));
  });
}

interface Entry {
  path: string;
  type: string;
  size?: number;
  mode: number;
  target?: string;
}

// ls, find, diff and dump on an age-encrypted S3 destination, as a user runs them:
// a full shard and an incremental one after changes, then the full shard's index
// object removed to see the archive read instead.
describe('looking inside age-encrypted shards on S3', () => {
  let server: S3TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  let source: string;
  const blob = randomBytes(3 * 1024 * 1024 + 17);
  const PREFIX = 'inside/';
  let full: string;
  let incremental: string;

  const cli = async (...args: string[]) => {
    const result = await runCli([...args, '-c', config]);
    return { ...result, json: () => JSON.parse(result.stdout) };
  };

  beforeAll(async () => {
    server = await startS3Server();
    work = await tempDir('mb-e2e-inside-');
    source = join(work.path, 'source');
    await mkdir(join(source, 'sub'), { recursive: true });
    await writeFile(join(source, 'blob.bin'), blob);
    await writeFile(join(source, 'keep.txt'), 'kept\n');
    await writeFile(join(source, 'changed.txt'), 'before\n');
    await writeFile(join(source, 'gone.txt'), 'deleted later\n');
    await writeFile(join(source, 'mode.sh'), '#!/bin/sh\n', { mode: 0o644 });
    await writeFile(join(source, 'sub', 'a.conf'), 'a=1\n');
    await symlink('keep.txt', join(source, 'link'));
    const identity = join(work.path, 'key.txt');
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
    const secretFile = join(work.path, 's3.secret');
    await writeFile(secretFile, `${server.secretAccessKey}\n`, { mode: 0o600 });
    config = await writeConfig(work.path, {
      name: 'inside',
      sources: [{ name: 'data', type: 'directory', path: source }],
      encryption: { enabled: true, method: 'age', recipients: [recipient], identity_file: identity },
      incremental: { max_chain: 5 },
      destinations: [
        {
          name: 'offsite',
          type: 's3',
          endpoint: server.endpoint,
          bucket: server.bucket,
          prefix: PREFIX,
          access_key_id: server.accessKeyId,
          secret_access_key_file: secretFile,
        },
      ],
    });
    const first = await cli('run', '--json', '--type', 'full');
    expect(first.code, first.stderr).toBe(0);
    full = first.json().id;

    await writeFile(join(source, 'changed.txt'), 'after, and longer\n');
    await rm(join(source, 'gone.txt'));
    await writeFile(join(source, 'new.txt'), 'new\n');
    await chmod(join(source, 'mode.sh'), 0o755);
    await rm(join(source, 'link'));
    await symlink('sub/a.conf', join(source, 'link'));
    // A second run in the same second would get another id anyway; the diff is by content.
    const second = await cli('run', '--json', '--type', 'incremental');
    expect(second.code, second.stderr).toBe(0);
    incremental = second.json().id;
    expect(second.json().manifest.type).toBe('incremental');
  });
  afterAll(async () => {
    await server?.dispose();
    await work?.cleanup();
  });

  it('ls, find, diff and dump answer from the index objects; the archive is read only by dump', async () => {
    // The index object is stored beside the archive, encrypted for the same recipients, and named in the sidecar.
    const sidecar = JSON.parse(
      readFileSync(server.storedObjectPath(`${PREFIX}${full}.manifest.json`), 'utf8'),
    );
    expect(sidecar.index).toMatchObject({ name: `${full}.index.json.zst.age`, size: expect.any(Number) });
    const stored = readFileSync(server.storedObjectPath(`${PREFIX}${sidecar.index.name}`));
    expect(stored.length).toBe(sidecar.index.size);
    expect(stored.toString('latin1')).toMatch(/^age-encryption\.org\/v1/);
    expect(stored.toString('latin1')).not.toContain('keep.txt');

    // ls of the full shard: globs select paths and what is under them; -l shows modes and links.
    const ls = await cli('ls', full, 'data/sub', 'data/*.txt', '--json');
    expect(ls.code, ls.stderr).toBe(0);
    const listed = expectDocument('ls', ls.stdout);
    expect(listed).toMatchObject({
      schema_version: 1,
      destination: 'offsite',
      shard: { id: full, type: 'full' },
    });
    expect(listed.links).toEqual([{ id: full, source: 'index' }]);
    expect(listed.entries.map((entry: Entry) => entry.path)).toEqual([
      'data/changed.txt',
      'data/gone.txt',
      'data/keep.txt',
      'data/sub',
      'data/sub/a.conf',
    ]);
    // Only the sidecar and the index were read, far less than the archive.
    expect(listed.bytes_read).toBeLessThan(sidecar.object.size / 10);
    const long = await cli('ls', full, '-l');
    expect(long.code, long.stderr).toBe(0);
    expect(long.stdout).toMatch(/^-rw-r--r-- +\S+ +3145745 +\d{4}-\d\d-\d\d \d\d:\d\d +data\/blob\.bin$/m);
    expect(long.stdout).toMatch(/^lrwxrwxrwx .* data\/link -> keep\.txt$/m);
    expect(long.stdout).toMatch(/^drwx.* data\/sub$/m);

    // ls of the incremental shard is the whole tree at its time: the base with the changes laid over it.
    const atIncrement = (await cli('ls', incremental, '--json')).json();
    expect(atIncrement.shard).toMatchObject({ type: 'incremental', chain: [full, incremental] });
    const byPath = new Map<string, Entry>(atIncrement.entries.map((entry: Entry) => [entry.path, entry]));
    expect(byPath.has('data/gone.txt')).toBe(false);
    expect(byPath.get('data/new.txt')).toMatchObject({ type: 'file', size: 4 });
    expect(byPath.get('data/blob.bin')).toMatchObject({ size: blob.length });
    expect(byPath.get('data/link')).toMatchObject({ type: 'symlink', target: 'sub/a.conf' });
    expect(byPath.get('data/mode.sh')!.mode).toBe(0o755);

    // find across both shards: which shards hold a matching name, newest first.
    const found = expectDocument('find', (await cli('find', 'keep.txt', 'new.*', '--json')).stdout);
    expect(found.shards_searched).toBe(2);
    expect(
      found.matches.map((match: { shard: string; entries: Entry[] }) => [
        match.shard,
        match.entries.map((entry) => entry.path),
      ]),
    ).toEqual([
      [incremental, ['data/keep.txt', 'data/new.txt']],
      [full, ['data/keep.txt']],
    ]);
    expect(found.lists).toEqual({ index: 2, archive: 0 });
    const text = await cli('find', '*.conf');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`${full}  (`);
    expect(text.stdout).toContain('  data/sub/a.conf');

    // diff: added, removed and each kind of modification, with sizes.
    const diff = await cli('diff', full, incremental, '--json');
    expect(diff.code, diff.stderr).toBe(0);
    expect(expectDocument('diff', diff.stdout).changes).toEqual([
      {
        path: 'data/changed.txt',
        change: 'modified',
        type: 'file',
        old_size: 7,
        new_size: 18,
        fields: ['content'],
      },
      { path: 'data/gone.txt', change: 'removed', type: 'file', old_size: 14 },
      { path: 'data/link', change: 'modified', type: 'symlink', fields: ['target'] },
      {
        path: 'data/mode.sh',
        change: 'modified',
        type: 'file',
        old_size: 10,
        new_size: 10,
        fields: ['mode'],
      },
      { path: 'data/new.txt', change: 'added', type: 'file', new_size: 4 },
    ]);
    expect(diff.json().summary).toEqual({ added: 1, removed: 1, modified: 3 });

    // dump: a binary file byte for byte (stored in the base: the incremental did not change it),
    // a changed text file from the incremental, and a folder refused with its code.
    const binary = await runCliBytes(['dump', incremental, 'data/blob.bin', '-c', config]);
    expect(binary.code, binary.stderr).toBe(0);
    expect(binary.stdout.equals(blob)).toBe(true);
    const output = join(work.path, 'changed.txt');
    const changed = await cli('dump', incremental, '/data/changed.txt', '-o', output, '--json');
    expect(changed.code, changed.stderr).toBe(0);
    expect(expectDocument('dump', changed.stdout)).toMatchObject({ from: incremental, size: 18, output });
    expect(readFileSync(output, 'utf8')).toBe('after, and longer\n');
    const folder = await cli('dump', incremental, 'data/sub', '--json', '-o', join(work.path, 'x'));
    expect(folder.code).toBe(2);
    expect(expectDocument('failure', folder.stdout).errors[0]).toMatchObject({ code: 'NOT_A_FILE' });
    const missing = await cli('dump', full, 'data/new.txt');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`error: data/new.txt is not in shard ${full}`);
  });

  it('a shard whose index object is gone is listed from its archive, and says so', async () => {
    const before = (await cli('ls', full, '--json')).json();
    const indexKey = `${PREFIX}${full}.index.json.zst.age`;
    const objectFile = server.storedObjectPath(indexKey);
    rmSync(objectFile.replace(/object$/, 'metadata.json'), { force: true });
    rmSync(objectFile, { force: true });
    expect(server.storedKeys()).not.toContain(indexKey);

    const after = await cli('ls', full, '--json');
    expect(after.code, after.stderr).toBe(0);
    const listed = expectDocument('ls', after.stdout);
    expect(listed.entries).toEqual(before.entries);
    expect(listed.links).toEqual([
      {
        id: full,
        source: 'archive',
        fallback: { code: 'INDEX_MISSING', message: expect.stringContaining(full) },
      },
    ]);
    expect(listed.warnings).toEqual([expect.objectContaining({ code: 'INDEX_UNUSABLE', shard: full })]);
    expect(listed.bytes_read).toBeGreaterThan(blob.length);
    const verbose = await cli('ls', incremental, 'data/keep.txt', '-v');
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stderr).toContain(`file list of ${full} read from its archive`);
    expect(verbose.stdout).toBe('data/keep.txt\n');
    // verify still passes: a missing index only makes listing slower.
    const verify = await cli('verify', full);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).toContain('is missing; ls, find, diff and dump read the archive instead');
  });
});
