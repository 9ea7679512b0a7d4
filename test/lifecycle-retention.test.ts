import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { filesUnder, writeConfig } from './helpers/config.js';

// Retention through the CLI on a local destination: runs that prune as they go,
// `prune --dry-run` that shows every decision and touches nothing, `cleanup`,
// `delete`, and the audit log they all leave. One sequence: each step builds on
// the shards the previous ones left.
describe('retention, prune, cleanup and delete', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  let tight: string;
  let disk: string;
  const ids: string[] = [];
  const STALE_INCOMPLETE = 'backup_20200101_000000';

  const shardFiles = (...shards: string[]) =>
    shards.flatMap((id) => [`${id}.index.json.zst`, `${id}.manifest.json`, `${id}.tar.zst`]).sort();

  beforeAll(async () => {
    work = await tempDir('mb-e2e-retention-');
    disk = join(work.path, 'disk');
    await writeFile(join(work.path, 'notes.txt'), 'retention test\n');
    const backup = (retention: Record<string, unknown>) => ({
      sources: [
        { name: 'notes', type: 'command' as const, command: ['cat', 'notes.txt'], filename: 'notes.txt' },
      ],
      destinations: [{ name: 'disk', type: 'local', path: disk }],
      retention,
      source_instance: 'e2e-host',
      // One name: tight.yaml is the same config under a stricter policy, so its shards are tight's own.
      name: 'notes',
    });
    config = await writeConfig(work.path, backup({ keep_last: 3, min_backups: 2 }));
    // The same destination under a stricter policy, for prune.
    tight = await writeConfig(work.path, backup({ keep_last: 1, min_backups: 1 }), 'tight.yaml');
  });
  afterAll(() => work?.cleanup());

  it('each run prunes: with keep_last 3 four runs leave exactly the newest three', async () => {
    for (let run = 0; run < 3; run++) {
      const result = await runCli(['run', '-c', config, '--json']);
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout);
      ids.push(summary.id);
      expect(summary.destinations[0].prune).toEqual({ deleted: [], failed: [] });
    }
    // The fourth as a person reads it: the retention line names the shard it deleted.
    const fourth = await runCli(['run', '-c', config]);
    expect(fourth.code, fourth.stderr).toBe(0);
    ids.push(/^shard (\S+)/m.exec(fourth.stdout)?.[1] ?? '');
    expect(fourth.stdout).toContain(`retention: deleted 1 old shard from disk: ${ids[0]}\n`);
    expect(await filesUnder(disk)).toEqual(shardFiles(ids[1]!, ids[2]!, ids[3]!));
  });

  it('prune --dry-run lists every shard with keep/delete and the reason, and deletes nothing', async () => {
    // An archive without its sidecar, two days old, with an id from before writer tags: whose it is
    // cannot be known, so it is reported and never removed automatically.
    const stale = join(disk, `${STALE_INCOMPLETE}.tar.zst`);
    await writeFile(stale, 'half a shard');
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await utimes(stale, twoDaysAgo, twoDaysAgo);
    const before = await filesUnder(disk);

    const text = await runCli(['prune', '--dry-run', '-c', tight]);
    expect(text.code, text.stderr).toBe(0);
    const row = (id: string) => text.stdout.split('\n').find((line) => line.split(/\s+/).includes(id)) ?? '';
    expect(text.stdout).toMatch(/^DESTINATION\s+ID\s+CREATED\s+SIZE\s+ACTION\s+REASON$/m);
    expect(row(ids[3]!)).toMatch(/\bkeep\s+min_backups, last 1$/);
    expect(row(ids[2]!)).toMatch(/\bdelete\s+no rule keeps it$/);
    expect(row(ids[1]!)).toMatch(/\bdelete\s+no rule keeps it$/);
    expect(row(STALE_INCOMPLETE)).toMatch(
      /\bkeep\s+incomplete \(no sidecar manifest\): its writer is unknown/,
    );
    expect(text.stdout).toContain('disk: would keep 1 shard, delete 2 shards');
    expect(text.stderr).toContain('dry run: nothing was deleted');

    const json = await runCli(['prune', '--dry-run', '--json', '-c', tight]);
    expect(json.code, json.stderr).toBe(0);
    const [report] = JSON.parse(json.stdout).destinations;
    expect(report.shards.map((s: { id: string; action: string }) => [s.id, s.action])).toEqual([
      [ids[3], 'keep'],
      [ids[2], 'delete'],
      [ids[1], 'delete'],
    ]);
    expect(report.incomplete).toMatchObject([{ id: STALE_INCOMPLETE, action: 'keep', owner: 'unknown' }]);
    expect(report.deleted).toEqual([]);
    expect(await filesUnder(disk)).toEqual(before);
  });

  it('cleanup --keep N keeps the newest N but never fewer than min_backups', async () => {
    const result = await runCli(['cleanup', '--keep', '1', '--dry-run', '--json', '-c', config]);
    expect(result.code, result.stderr).toBe(0);
    const [report] = JSON.parse(result.stdout).destinations;
    expect(report.policy).toEqual({ keep_last: 1, min_backups: 2 });
    expect(report.shards.map((s: { action: string; reasons: string[] }) => [s.action, s.reasons])).toEqual([
      ['keep', ['min_backups', 'last 1']],
      ['keep', ['min_backups']],
      ['delete', []],
    ]);
  });

  it('delete refuses without --yes when there is no terminal, then removes archive and sidecar', async () => {
    const refused = await runCli(['delete', ids[1]!, '-c', config]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('without --yes');
    expect(await filesUnder(disk)).toContain(`${ids[1]}.tar.zst`);

    const deleted = await runCli(['delete', ids[1]!, '--yes', '-c', config]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain(`deleted ${ids[1]} from disk`);
    const left = await filesUnder(disk);
    expect(left).not.toContain(`${ids[1]}.tar.zst`);
    expect(left).not.toContain(`${ids[1]}.manifest.json`);
  });

  it('prune applies the policy: exactly the newest shard survives, the incomplete one of unknown writer stays', async () => {
    const result = await runCli(['prune', '-c', tight]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('disk: kept 1 shard, deleted 1 shard');
    expect(await filesUnder(disk)).toEqual([...shardFiles(ids[3]!), `${STALE_INCOMPLETE}.tar.zst`].sort());
  });

  it('every run, prune, delete and restore left a 0600 audit line', async () => {
    const restored = await runCli(['restore', ids[3]!, '--to', join(work.path, 'restored'), '-c', config]);
    expect(restored.code, restored.stderr).toBe(0);
    const log = join(work.path, 'state', 'audit.log');
    expect((await stat(log)).mode & 0o777).toBe(0o600);
    const lines = (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.action, line.result])).toEqual([
      ['run', 'success'],
      ['run', 'success'],
      ['run', 'success'],
      ['run', 'success'],
      ['prune', 'dry-run'],
      ['prune', 'dry-run'],
      ['prune', 'dry-run'],
      ['delete', 'success'],
      ['prune', 'success'],
      ['restore', 'success'],
    ]);
    expect(lines[3]).toMatchObject({ shard: ids[3], details: { pruned: { disk: [ids[0]] } } });
    expect(lines[7]).toMatchObject({
      shard: ids[1],
      destinations: ['disk'],
      details: {
        keys: { disk: [`${ids[1]}.index.json.zst`, `${ids[1]}.tar.zst`, `${ids[1]}.manifest.json`] },
      },
    });
    expect(lines[8].config).toBe(tight);
    expect(lines[8].details.deleted.disk).toEqual([ids[2]]);
    expect(lines[9]).toMatchObject({
      shard: ids[3],
      destinations: ['disk'],
      details: { to: join(work.path, 'restored') },
    });
    for (const line of lines)
      expect(line).toMatchObject({
        time: expect.any(String),
        user: expect.any(String),
        host: expect.any(String),
      });
  });
});
