import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  appendFile,
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  readFile,
  rename,
  rm,
  symlink,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { type S3TestServer, startS3Server } from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, tempDir } from './helpers/cli.js';
import { writeConfig } from './helpers/config.js';
import { snapshotTree } from './helpers/tree.js';

interface RunJson {
  id: string;
  type: 'full' | 'incremental';
  manifest: { parent?: string; base?: string; chain_length?: number; size_bytes: number };
}

// Using a chain through the CLI: a full shard and three incrementals on a local folder and s3rver;
// every point in time restores to the tree as it was then (a log that only grows stored as the
// bytes it gained, and given whole by dump), a damaged middle link on one
// destination falls back to the other, and neither prune nor delete leaves an incremental
// without the shards it is restored from.
describe('restoring and keeping incremental chains through the CLI', () => {
  let server: S3TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let source: string;
  let config: string;
  /** The tree at each point, and the owner of the log (which changes with the second incremental when run as root). */
  const points: Array<{ run: RunJson; tree: Awaited<ReturnType<typeof snapshotTree>>; logUid: number }> = [];
  const dest = (name: string) => join(work.path, name);

  beforeAll(async () => {
    server = await startS3Server();
    work = await tempDir('mb-e2e-chain-');
    source = join(work.path, 'source');
    await mkdir(join(source, 'old'), { recursive: true });
    await mkdir(join(source, 'sub'));
    await writeFile(join(source, 'keep.txt'), 'kept as it is\n');
    await writeFile(join(source, 'mod.txt'), 'version 1\n');
    await writeFile(join(source, 'gone.txt'), 'deleted after the full shard\n');
    await writeFile(join(source, 'old/x.txt'), 'in a folder that goes\n');
    await writeFile(join(source, 'sub/deep.txt'), 'renamed later\n');
    await writeFile(join(source, 'to-dir'), 'a file, then a folder\n');
    await writeFile(join(source, 'run.sh'), '#!/bin/sh\n', { mode: 0o644 });
    await symlink('keep.txt', join(source, 'link'));
    // Big enough to be stored as what it gains: a log that only grows, one whose start changes too, one that shrinks.
    await writeFile(join(source, 'app.log'), randomBytes(200 * 1024));
    await writeFile(join(source, 'grows.bin'), randomBytes(100 * 1024));
    await writeFile(join(source, 'shrinks.bin'), randomBytes(100 * 1024));
    const secretFile = join(work.path, 's3.secret');
    await writeFile(secretFile, `${server.secretAccessKey}\n`, { mode: 0o600 });
    config = await writeConfig(work.path, {
      name: 'chain-restore',
      sources: [{ name: 'data', type: 'directory', path: source }],
      destinations: [
        { name: 'd1', type: 'local', path: dest('d1') },
        {
          name: 'd2',
          type: 's3',
          endpoint: server.endpoint,
          bucket: server.bucket,
          access_key_id: server.accessKeyId,
          secret_access_key_file: secretFile,
        },
      ],
      incremental: { max_chain: 5 },
      retention: { keep_last: 1 },
    });
  });
  afterAll(async () => {
    await server?.dispose();
    await work?.cleanup();
  });

  const cli = async (args: string[], expectedCode = 0) => {
    const result = await runCli([...args, '-c', config]);
    expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(expectedCode);
    return result;
  };
  const runAndSnapshot = async () => {
    const run = JSON.parse((await cli(['run', '--json'])).stdout) as RunJson;
    points.push({
      run,
      tree: await snapshotTree(source),
      logUid: (await lstat(join(source, 'app.log'))).uid,
    });
    return run;
  };

  it('makes a full shard and three incrementals, each after changes of every kind', async () => {
    expect((await runAndSnapshot()).type).toBe('full');

    await writeFile(join(source, 'mod.txt'), 'version 2, longer\n');
    await writeFile(join(source, 'new.txt'), 'new\n');
    await unlink(join(source, 'gone.txt'));
    await rm(join(source, 'old'), { recursive: true });
    await chmod(join(source, 'run.sh'), 0o755);
    await unlink(join(source, 'link'));
    await symlink('mod.txt', join(source, 'link'));
    await rm(join(source, 'to-dir'));
    await mkdir(join(source, 'to-dir'));
    await writeFile(join(source, 'to-dir/in.txt'), 'now a folder\n');
    await appendFile(join(source, 'app.log'), 'a line for the first incremental\n');
    const grows = await readFile(join(source, 'grows.bin'));
    grows[0] = grows[0]! ^ 0xff;
    await writeFile(join(source, 'grows.bin'), Buffer.concat([grows, Buffer.from('and more\n')]));
    await truncate(join(source, 'shrinks.bin'), 50 * 1024);
    await runAndSnapshot();

    await rename(join(source, 'sub/deep.txt'), join(source, 'sub/deeper.txt'));
    await rename(join(source, 'keep.txt'), join(source, 'kept.txt'));
    await writeFile(join(source, 'new.txt'), 'newer\n');
    await appendFile(join(source, 'app.log'), 'a line for the second\n');
    // A new owner with the new bytes: the appended entry carries it, and the by-hand restore must give it.
    if (process.getuid?.() === 0) await chown(join(source, 'app.log'), 4321, 4321);
    await runAndSnapshot();

    await rm(join(source, 'sub'), { recursive: true });
    await writeFile(join(source, 'sub'), 'a folder, then a file\n');
    await unlink(join(source, 'link'));
    await symlink('/etc/hostname', join(source, 'link'));
    await chmod(join(source, 'to-dir'), 0o700);
    await runAndSnapshot();

    const [full, ...incrementals] = points.map((point) => point.run);
    // Stored bytes of files: the log's new lines, not the log; the files whose start changed or that shrank whole.
    expect(incrementals[0]!.manifest.size_bytes).toBeLessThan(155 * 1024);
    expect(incrementals[0]!.manifest.size_bytes).toBeGreaterThan(150 * 1024);
    expect(incrementals[1]!.manifest.size_bytes).toBeLessThan(100);
    expect(incrementals.map((run) => [run.type, run.manifest.base, run.manifest.chain_length])).toEqual([
      ['incremental', full!.id, 1],
      ['incremental', full!.id, 2],
      ['incremental', full!.id, 3],
    ]);
    expect(incrementals.map((run) => run.manifest.parent)).toEqual(points.slice(0, 3).map((p) => p.run.id));

    // list and info show each shard's type, parent and place in the chain.
    const listed = JSON.parse((await cli(['list', '-d', 'd1', '--json'])).stdout).destinations[0].complete;
    expect(
      listed.map((shard: Record<string, unknown>) => [
        shard.id,
        shard.type,
        shard.parent,
        shard.chain_length,
      ]),
    ).toEqual(
      points.map(({ run }) => [run.id, run.type, run.manifest.parent, run.manifest.chain_length]).reverse(),
    );
    const table = (await cli(['list', '-d', 'd1'])).stdout;
    expect(table).toMatch(
      new RegExp(`${incrementals[2]!.id}\\s+\\S+ \\S+\\s+incr 3\\s+${incrementals[1]!.id}`),
    );
    const info = (await cli(['info', 'latest'])).stdout;
    expect(info).toContain(`incremental, link 3 after the full shard ${full!.id}`);
    expect(info).toContain(`parent      ${incrementals[1]!.id}`);
  });

  it('restores every point in time exactly as the tree was then, entry by entry', async () => {
    for (const [index, { run, tree }] of points.entries()) {
      const to = join(work.path, `restored-${index}`);
      await cli(['restore', run.id, '--to', to]);
      expect(await snapshotTree(join(to, 'data')), `point ${index}`).toEqual(tree);
      // dump gives the grown log whole: its bytes from the link that stored it whole, then each link's new ones
      // (at the third point two links' new bytes, at the fourth a link after them that did not touch it).
      if (index < 2) continue;
      const out = join(work.path, `app-${index}.log`);
      const dumped = JSON.parse((await cli(['dump', run.id, 'data/app.log', '-o', out, '--json'])).stdout);
      expect(dumped.sha256).toBe(tree.get('app.log')!.sha256);
      expect(
        createHash('sha256')
          .update(await readFile(out))
          .digest('hex'),
      ).toBe(dumped.sha256);
      const appendedBy = points.slice(1, 3).map((point) => point.run.id);
      expect(dumped.appended_from).toEqual(appendedBy);
    }
    // ls -l shows the whole file.
    const listed = (await cli(['ls', '-l', points[2]!.run.id, 'data/app.log'])).stdout;
    expect(listed).toContain(` ${points[2]!.tree.get('app.log')!.size} `);
  });

  it('restores a point in time by hand with zstd, tar and jq, running the commands docs/restore.md gives', async () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs/restore.md'), 'utf8');
    const script = docs.match(/```sh\n(ID=backup_\S+ +# the shard to restore\n[\s\S]*?)```/)?.[1];
    expect(script).toBeDefined();
    const folder = join(work.path, 'by-hand');
    await cp(dest('d1'), folder, { recursive: true });
    for (const index of [3, 1]) {
      const id = points[index]!.run.id;
      await rm(join(folder, 'restored'), { recursive: true, force: true });
      execFileSync('sh', ['-e', '-c', script!.replace(/^ID=\S+/, `ID=${id}`)], { cwd: folder });
      expect(await snapshotTree(join(folder, 'restored/data')), `point ${index}`).toEqual(
        points[index]!.tree,
      );
      expect((await lstat(join(folder, 'restored/data/app.log'))).uid, `point ${index}`).toBe(
        points[index]!.logUid,
      );
    }
  });

  it('falls back to the other destination when a middle link is damaged, naming it', async () => {
    const middle = points[1]!.run.id;
    const archive = join(dest('d1'), `${middle}.tar.zst`);
    const bytes = readFileSync(archive);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(archive, bytes);
    // verify checks every link of the chain, and names the damaged one.
    const verify = await cli(['verify', 'latest', '-d', 'd1'], 1);
    expect(verify.stdout).toMatch(
      new RegExp(`FAILED\\s+d1\\s+${middle} \\(in the chain of ${points[3]!.run.id}\\)`),
    );
    expect(verify.stdout).toMatch(new RegExp(`ok\\s+d1\\s+${points[0]!.run.id} .*in the chain of`));
    const to = join(work.path, 'restored-fallback');
    const result = await cli(['restore', 'latest', '--to', to]);
    expect(result.stderr).toContain('d1');
    expect(result.stderr).toContain(middle);
    expect(result.stdout + result.stderr).toMatch(/from destination "d2"/);
    expect(await snapshotTree(join(to, 'data'))).toEqual(points[3]!.tree);
    // Only d1, whose chain is broken: the restore fails, naming the link, and leaves nothing behind.
    const refused = await cli(['restore', 'latest', '-d', 'd1', '--to', join(work.path, 'not-made')], 1);
    expect(refused.stderr).toContain(middle);
    writeFileSync(archive, readFileSync(server.storedObjectPath(`${middle}.tar.zst`)));
  });

  it('keeps every link a kept incremental needs: retention after each run, prune, and delete', async () => {
    const [full, inc1, inc2, inc3] = points.map((point) => point.run.id);
    const dry = await cli(['prune', '--dry-run', '-d', 'd1']);
    expect(dry.stdout).toContain(`base of ${inc3}`);
    expect(dry.stdout).toContain(`parent of ${inc3}`);
    expect(dry.stdout).toContain(`parent of ${inc2}`);
    expect(dry.stdout).not.toMatch(/\bdelete\b.*backup_/);

    const refused = await cli(['delete', full!, '--yes'], 2);
    expect(refused.stderr).toContain(`refusing to delete ${full}`);
    expect(refused.stderr).toContain(inc1);
    expect(refused.stderr).toContain('--with-dependents');
    const plan = await cli(['delete', inc2!, '--with-dependents', '--dry-run', '-d', 'd2', '--json']);
    expect(JSON.parse(plan.stdout).destinations).toMatchObject([
      { destination: 'd2', status: 'would delete', dependents: [inc3] },
    ]);
    await cli(['delete', inc2!, '--with-dependents', '--yes', '-d', 'd2']);
    const left = JSON.parse((await cli(['list', '-d', 'd2', '--json'])).stdout);
    const ids = JSON.stringify(left);
    expect(ids).toContain(inc1);
    expect(ids).not.toContain(inc2);
    expect(ids).not.toContain(inc3);
  });
});
