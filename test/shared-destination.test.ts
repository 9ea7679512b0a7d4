import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import {
  type S3TestServer,
  type SshServer,
  startS3Server,
  startSshServer,
} from '@matric-backup/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, type CliResult, runCli, tempDir } from './helpers/cli.js';
import { type DestinationSpec, filesUnder, writeConfig } from './helpers/config.js';
import { diffTrees, generateTree } from './helpers/tree.js';

interface ListedShard {
  id: string;
  owner: 'own' | 'foreign' | 'legacy';
  future: boolean;
}
interface Listing {
  name: string;
  complete: ListedShard[];
  incomplete: Array<{ id: string; reason: string; removable: boolean; why: string }>;
}

const json = <T>(result: CliResult): T => {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
};
const listOf = async (config: string, ...args: string[]) =>
  json<{ destinations: Listing[] }>(await runCli(['list', '--json', '-c', config, ...args])).destinations;

const LIBFAKETIME = ['x86_64-linux-gnu', 'aarch64-linux-gnu']
  .map((arch) => `/usr/lib/${arch}/faketime/libfaketime.so.1`)
  .find((path) => existsSync(path));

/**
 * The environment of a CLI whose wall clock reads `at` (libfaketime): frozen
 * there, or starting there and running on. Timers keep the real monotonic clock.
 */
function clockAt(at: Date, { frozen }: { frozen: boolean }): NodeJS.ProcessEnv {
  if (!LIBFAKETIME) throw new Error('libfaketime is missing: run scripts/setup.sh');
  const stamp = at.toISOString().slice(0, 19).replace('T', ' ');
  return {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME: frozen ? stamp : `@${stamp}`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    TZ: 'UTC',
  };
}

// Several writers on one destination: two configs started in the same second never share a key (on a
// local folder, S3 and SFTP), each config's retention, status, list and `latest` see only its own
// shards, nothing whose writer is in doubt is deleted, and a shard dated in the future is never "fresh".
describe('many writers, one destination', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let s3: S3TestServer;
  let sshd: SshServer;
  let secretFile: string;
  let sftpFolder: string;

  beforeAll(async () => {
    [s3, sshd] = await Promise.all([startS3Server(), startSshServer()]);
    work = await tempDir('mb-e2e-writers-');
    secretFile = join(work.path, 's3.secret');
    await writeFile(secretFile, `${s3.secretAccessKey}\n`, { mode: 0o600 });
    sftpFolder = await mkdtemp(join(sshd.root, 'shared-'));
    const { uid, gid } = await stat(sshd.root);
    await chown(sftpFolder, uid, gid);
  });
  afterAll(async () => {
    await Promise.all([s3?.dispose(), sshd?.dispose()]);
    await work?.cleanup();
  });

  // Each round both runs see one frozen wall-clock second (libfaketime), as two cron jobs on NTP-synced
  // hosts do: the case that made two writers share one id and one key.
  describe('two configs x 10 rounds in the same second, on local, s3 and sftp', () => {
    const ROUNDS = 10;
    const DESTINATIONS = ['disk', 'bucket', 'nas'];
    const configs: Record<'a' | 'b', string> = { a: '', b: '' };
    const sources: Record<'a' | 'b', string> = { a: '', b: '' };
    const ids: Record<'a' | 'b', string[]> = { a: [], b: [] };
    let sameSecond = 0;

    const destinations = (): DestinationSpec[] => [
      { name: 'disk', type: 'local', path: join(work.path, 'shared-disk') },
      {
        name: 'bucket',
        type: 's3',
        endpoint: s3.endpoint,
        bucket: s3.bucket,
        prefix: 'shared/',
        access_key_id: s3.accessKeyId,
        secret_access_key_file: secretFile,
      },
      {
        name: 'nas',
        type: 'sftp',
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        path: sftpFolder,
        ssh_key: sshd.keyPath,
        known_hosts: sshd.knownHostsPath,
      },
    ];

    beforeAll(async () => {
      for (const which of ['a', 'b'] as const) {
        const dir = join(work.path, `collide-${which}`);
        sources[which] = join(dir, 'source');
        await generateTree(sources[which], { bigFileBytes: 64 * 1024, smallFiles: 20 });
        // Same file name, same source names, same state folder, same host: only the sources' paths differ.
        configs[which] = await writeConfig(
          dir,
          {
            sources: [{ name: 'data', type: 'directory', path: sources[which] }],
            destinations: destinations(),
            retry: { max_retries: 0 },
            state_dir: join(work.path, 'collide-state'),
          },
          'backup.yaml',
        );
      }
    });

    it('every run exits 0 with its own id, though both runs of a round share their second', async () => {
      const base = Math.floor(Date.now() / 1000) * 1000 - 20 * 60_000;
      for (let round = 0; round < ROUNDS; round++) {
        const env = clockAt(new Date(base + round * 60_000), { frozen: true });
        const [a, b] = await Promise.all([
          runCli(['run', '--json', '-c', configs.a], { env }),
          runCli(['run', '--json', '-c', configs.b], { env }),
        ]);
        const idA = json<{ id: string }>(a).id;
        const idB = json<{ id: string }>(b).id;
        ids.a.push(idA);
        ids.b.push(idB);
        if (idA.split('_').slice(0, 3).join('_') === idB.split('_').slice(0, 3).join('_')) sameSecond++;
      }
      const all = [...ids.a, ...ids.b];
      expect(sameSecond).toBe(ROUNDS);
      expect(new Set(all).size).toBe(2 * ROUNDS);
      console.info(
        `same-second rounds: ${sameSecond} of ${ROUNDS}; distinct ids: ${new Set(all).size} of ${all.length} on each of local, s3 and sftp`,
      );
    });

    it("every run's shard is complete on every destination, and each config lists its own", async () => {
      const listing = await listOf(configs.a);
      expect(listing.map((destination) => destination.name)).toEqual(DESTINATIONS);
      for (const destination of listing) {
        const byId = new Map(destination.complete.map((shard) => [shard.id, shard.owner]));
        for (const id of ids.a) expect(byId.get(id), `${destination.name} ${id}`).toBe('own');
        for (const id of ids.b) expect(byId.get(id), `${destination.name} ${id}`).toBe('foreign');
        expect(destination.complete).toHaveLength(2 * ROUNDS);
        expect(destination.incomplete).toEqual([]);
      }
      const own = await listOf(configs.b, '--own');
      for (const destination of own) {
        expect(destination.complete.map((shard) => shard.id).sort()).toEqual([...ids.b].sort());
      }
    });

    it("each config's status and history show its own runs", async () => {
      for (const which of ['a', 'b'] as const) {
        const status = json<{ ok: boolean; destinations: Array<Record<string, unknown>> }>(
          await runCli(['status', '--json', '--max-age', '1h', '-c', configs[which]]),
        );
        expect(status.ok).toBe(true);
        for (const destination of status.destinations) {
          expect(destination).toMatchObject({
            newest: { id: ids[which].at(-1) },
            count: ROUNDS,
            foreign: ROUNDS,
            incomplete: [],
          });
        }
        const history = json<{ runs: Array<{ id: string; status: string }> }>(
          await runCli(['history', '--json', '-n', '50', '-c', configs[which]]),
        );
        expect(history.runs.map((run) => [run.id, run.status])).toEqual(
          [...ids[which]].reverse().map((id) => [id, 'success']),
        );
      }
    });

    it("shards of the same second restore to their own config's files (spot checks)", async () => {
      const checks: Array<['a' | 'b', number, string]> = [
        ['a', 0, 'bucket'],
        ['b', 0, 'nas'],
        ['b', ROUNDS - 1, 'disk'],
      ];
      for (const [which, round, destination] of checks) {
        const target = join(work.path, `restored-${which}-${round}-${destination}`);
        const restore = await runCli([
          'restore',
          ids[which][round]!,
          '-d',
          destination,
          '--to',
          target,
          '-c',
          configs[which],
        ]);
        expect(restore.code, restore.stderr).toBe(0);
        expect(await diffTrees(sources[which], join(target, 'data'))).toEqual([]);
      }
      // `latest` is this config's newest, though the other config's shard of that second sits beside it.
      const latest = join(work.path, 'restored-latest-a');
      const restore = await runCli(['restore', 'latest', '--to', latest, '-c', configs.a]);
      expect(restore.code, restore.stderr).toBe(0);
      expect(restore.stdout).toContain(ids.a.at(-1));
      expect(await diffTrees(sources.a, join(latest, 'data'))).toEqual([]);
    });
  });

  describe('retention on one shared folder', () => {
    let folder: string;
    let keepOne: string;
    let keepFive: string;
    let otherHost: string;
    const runIds = async (config: string, times: number) => {
      const made: string[] = [];
      for (let i = 0; i < times; i++)
        made.push(json<{ id: string }>(await runCli(['run', '--json', '-c', config])).id);
      return made;
    };

    beforeAll(async () => {
      folder = join(work.path, 'nas-folder');
      const dir = join(work.path, 'retention');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'notes.txt'), 'retention on a shared folder\n');
      const backup = (retention: object, extra: object = {}) => ({
        sources: [{ name: 'notes', type: 'directory' as const, path: dir, exclude: ['state/**', '*.yaml'] }],
        destinations: [{ name: 'nas', type: 'local', path: folder }],
        retention,
        ...extra,
      });
      // Two configs of this host with the default id_prefix and default names, and a third host.
      keepOne = await writeConfig(dir, backup({ keep_last: 1 }), 'hourly.yaml');
      keepFive = await writeConfig(dir, backup({ keep_last: 5 }), 'daily.yaml');
      const hostC = join(work.path, 'retention-host-c');
      await mkdir(hostC, { recursive: true });
      otherHost = await writeConfig(
        hostC,
        backup({ keep_last: 1 }, { source_instance: 'host-c' }),
        'hourly.yaml',
      );
    });

    it('each config prunes only its own shards; a third host is untouched', async () => {
      const hostC = await runIds(otherHost, 1);
      const five = await runIds(keepFive, 2);
      const one = await runIds(keepOne, 3);
      const files = await filesUnder(folder);
      const idsIn = new Set(files.map((file) => file.split('.')[0]));
      expect(idsIn).toEqual(new Set([...hostC, ...five, one.at(-1)]));

      const prune = json<{ destinations: Array<{ shards: unknown[]; foreign: number; deleted: string[] }> }>(
        await runCli(['prune', '--json', '-c', keepOne]),
      );
      expect(prune.destinations[0]).toMatchObject({ foreign: 3, deleted: [] });
      expect(prune.destinations[0]!.shards).toHaveLength(1);
    });

    it('a truncated sidecar never leads to an automatic delete; an explicit delete removes it', async () => {
      const victim = (await listOf(keepFive, '--own'))[0]!.complete.at(-1)!.id;
      const sidecar = join(folder, `${victim}.manifest.json`);
      await writeFile(sidecar, (await readFile(sidecar)).subarray(0, 100));

      // Runs of both configs (each prunes), and prune of both: the archive stays.
      await runIds(keepOne, 1);
      await runIds(keepFive, 1);
      for (const config of [keepOne, keepFive]) expect((await runCli(['prune', '-c', config])).code).toBe(0);
      expect(await filesUnder(folder)).toContain(`${victim}.tar.zst`);

      const [listing] = await listOf(keepFive);
      expect(listing!.incomplete).toMatchObject([
        { id: victim, removable: false, reason: expect.stringMatching(/unreadable sidecar manifest/) },
      ]);
      const dry = await runCli(['prune', '--dry-run', '-c', keepFive]);
      expect(dry.stdout).toMatch(new RegExp(`${victim}.*keep\\s+incomplete \\(unreadable sidecar manifest`));
      const status = await runCli(['status', '-c', keepFive]);
      expect(status.stderr).toContain(`shard ${victim} is incomplete (unreadable sidecar manifest`);

      const deleted = await runCli(['delete', victim, '--yes', '-c', keepFive]);
      expect(deleted.code, deleted.stderr).toBe(0);
      expect((await filesUnder(folder)).some((file) => file.startsWith(`${victim}.`))).toBe(false);
    });

    it("an archive left by this config's killed run is removed by prune; one nothing explains is kept", async () => {
      const [template] = (await listOf(keepOne, '--own'))[0]!.complete;
      const tag = template!.id.split('_')[3]!;
      const killed = `backup_20200101_000000_${tag}`;
      const unexplained = `backup_20200102_000000_${tag}`;
      for (const id of [killed, unexplained])
        await writeFile(join(folder, `${id}.tar.zst`), 'half an archive');
      // The marker a killed run leaves behind, naming a process that no longer runs.
      const stateDir = join(work.path, 'retention', 'state');
      const history = json<{ runs: Array<{ writer: string; config: string }> }>(
        await runCli(['history', '--json', '-c', keepOne]),
      );
      await mkdir(join(stateDir, 'in-flight'), { recursive: true });
      await writeFile(
        join(stateDir, 'in-flight', `${killed}.json`),
        JSON.stringify({
          id: killed,
          writer: history.runs[0]!.writer,
          config: keepOne,
          pid: 2 ** 22 + 1, // above pid_max's default: no such process
          host: (await import('node:os')).hostname(),
          started_at: '2020-01-01T00:00:00.000Z',
        }),
      );
      const prune = json<{
        destinations: Array<{ deleted: string[]; incomplete: Array<{ id: string; action: string }> }>;
      }>(await runCli(['prune', '--json', '-c', keepOne]));
      expect(prune.destinations[0]!.deleted).toEqual([killed]);
      expect(prune.destinations[0]!.incomplete).toMatchObject([
        { id: unexplained, action: 'keep' },
        { id: killed, action: 'delete' },
      ]);
      const left = await filesUnder(folder);
      expect(left).not.toContain(`${killed}.tar.zst`);
      expect(left).toContain(`${unexplained}.tar.zst`);
      // The other config never removes this config's leftovers, whatever its records say.
      await runCli(['delete', unexplained, '--yes', '-c', keepOne]);
    });

    it("prune removes this config's upload leftovers once a day old, never another writer's", async () => {
      const tagOf = async (config: string) =>
        (await listOf(config, '--own'))[0]!.complete[0]!.id.split('_')[3]!;
      const [one, five] = [await tagOf(keepOne), await tagOf(keepFive)];
      const temp = (tag: string, day: string) =>
        `.backup_202001${day}_000000_${tag}.tar.zst.tmp-0123456789ab`;
      const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
      const leftovers = { stale: temp(one, '03'), fresh: temp(one, '04'), other: temp(five, '05') };
      for (const name of Object.values(leftovers)) await writeFile(join(folder, name), 'half an upload');
      for (const name of [leftovers.stale, leftovers.other])
        await utimes(join(folder, name), twoDaysAgo, twoDaysAgo);

      const prune = json<{ destinations: Array<{ leftovers: Array<{ name: string; action: string }> }> }>(
        await runCli(['prune', '--json', '-c', keepOne]),
      );
      expect(prune.destinations[0]!.leftovers.map((leftover) => [leftover.name, leftover.action])).toEqual([
        [leftovers.stale, 'delete'],
        [leftovers.fresh, 'keep'],
      ]);
      const left = await readdir(folder);
      expect(left).not.toContain(leftovers.stale);
      expect(left).toContain(leftovers.fresh);
      expect(left).toContain(leftovers.other);
    });

    it('a shard from before configs had names is never pruned unless this config recorded it', async () => {
      // Turn one of the third host's shards into one from an older version: untagged id, no writer.
      const hostC = (await listOf(otherHost, '--own'))[0]!.complete[0]!;
      const names = (await readdir(folder)).filter((name) => name.startsWith(hostC.id));
      const legacyId = 'backup_20240101_000000';
      for (const name of names)
        await rename(join(folder, name), join(folder, name.replace(hostC.id, legacyId)));
      const sidecarPath = join(folder, `${legacyId}.manifest.json`);
      const sidecar = JSON.parse(await readFile(sidecarPath, 'utf8'));
      // Shards of that age had no index object either.
      delete sidecar.writer;
      delete sidecar.index;
      await rm(join(folder, `${legacyId}.index.json.zst`));
      sidecar.id = legacyId;
      sidecar.object.name = sidecar.object.name.replace(hostC.id, legacyId);
      sidecar.source_instance = (await import('node:os')).hostname();
      sidecar.created_at = '2024-01-01T00:00:00.000Z';
      await writeFile(sidecarPath, JSON.stringify(sidecar));

      const [listing] = await listOf(keepOne);
      expect(listing!.complete.find((shard) => shard.id === legacyId)?.owner).toBe('legacy');
      expect((await runCli(['prune', '-c', keepOne])).code).toBe(0);
      expect(await filesUnder(folder)).toContain(`${legacyId}.manifest.json`);
    });
  });

  describe('a shard dated in the future', () => {
    let config: string;
    let folder: string;

    beforeAll(async () => {
      const dir = join(work.path, 'clock');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'notes.txt'), 'clock test\n');
      folder = join(dir, 'disk');
      config = await writeConfig(dir, {
        sources: [
          { name: 'notes', type: 'directory', path: dir, exclude: ['state/**', 'disk/**', '*.yaml'] },
        ],
        destinations: [{ name: 'disk', type: 'local', path: folder }],
        retention: { keep_last: 1 },
      });
    });

    it('is warned about, never fresh, not latest, and holds no keep_last slot', async () => {
      // A run under a clock set to 2030: the only shard of this config, for now.
      const wrong = json<{ id: string }>(
        await runCli(['run', '--json', '-c', config], {
          env: clockAt(new Date('2030-01-01T00:00:00Z'), { frozen: false }),
        }),
      );
      const future = wrong.id;
      expect(future).toMatch(/^backup_20300101_0000\d\d_[a-z]{8}(_\d+)?$/);
      const createdAt = JSON.parse(
        await readFile(join(folder, `${future}.manifest.json`), 'utf8'),
      ).created_at;

      // Only the future shard: status --max-age must not call it fresh.
      const stale = await runCli(['status', '--max-age', '36h', '-c', config]);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain(`shard ${future} is dated ${createdAt}, in the future`);
      const list = await runCli(['list', '-c', config]);
      expect(list.stdout).toMatch(new RegExp(`${future}.*FUTURE`));
      expect(list.stderr).toContain('in the future');

      const first = json<{ id: string }>(await runCli(['run', '--json', '-c', config])).id;
      const run = await runCli(['run', '--json', '-c', config]);
      const summary = json<{
        id: string;
        warnings: Array<{ code: string; message: string; destination?: string }>;
        destinations: Array<{ prune: { deleted: string[] } }>;
      }>(run);
      expect(summary.warnings).toContainEqual(
        expect.objectContaining({
          code: 'SHARD_IN_FUTURE',
          message: expect.stringContaining(`dated in the future (${future})`),
        }),
      );
      // keep_last 1 keeps the new shard (the 2030 one takes no slot) and deletes the older one.
      expect(summary.destinations[0]!.prune.deleted).toEqual([first]);
      const dry = json<{
        destinations: Array<{ shards: Array<{ id: string; action: string; reasons: string[] }> }>;
      }>(await runCli(['prune', '--dry-run', '--json', '-c', config]));
      expect(dry.destinations[0]!.shards.map((shard) => [shard.id, shard.action, shard.reasons])).toEqual([
        [future, 'keep', ['dated in the future']],
        [summary.id, 'keep', ['last 1']],
      ]);
      expect(
        json<{ ok: boolean }>(await runCli(['status', '--json', '--max-age', '36h', '-c', config])).ok,
      ).toBe(true);

      const restored = join(work.path, 'clock-restored');
      const restore = await runCli(['restore', 'latest', '--to', restored, '-c', config]);
      expect(restore.code, restore.stderr).toBe(0);
      expect(restore.stdout).toContain(summary.id);
      expect(restore.stderr).toContain(`passed over shard ${future}`);
    });
  });

  describe('ls, diff and dump on a folder another config writes to', () => {
    it("take `latest` as this config's newest shard, not the other config's newer one", async () => {
      const dir = join(work.path, 'inside-latest');
      const shared = join(dir, 'disk');
      const config = async (name: string) => {
        await mkdir(join(dir, name), { recursive: true });
        await writeFile(join(dir, name, 'notes.txt'), `${name}\n`);
        return writeConfig(
          dir,
          {
            sources: [{ name: 'data', type: 'directory', path: join(dir, name) }],
            destinations: [{ name: 'disk', type: 'local', path: shared }],
          },
          `${name}.yaml`,
        );
      };
      const [mine, other] = [await config('mine'), await config('other')];
      const first = json<{ id: string }>(await runCli(['run', '--json', '-c', mine])).id;
      await writeFile(join(dir, 'mine', 'notes.txt'), 'mine, later\n');
      const newest = json<{ id: string }>(await runCli(['run', '--json', '-c', mine])).id;
      // The newest shard on the folder is the other config's.
      json(await runCli(['run', '--json', '-c', other]));

      const ls = json<{ shard: { id: string } }>(await runCli(['ls', 'latest', '--json', '-c', mine]));
      expect(ls.shard.id).toBe(newest);
      const diff = json<{ from: { id: string }; to: { id: string }; changes: Array<{ path: string }> }>(
        await runCli(['diff', first, 'latest', '--json', '-c', mine]),
      );
      expect([diff.from.id, diff.to.id]).toEqual([first, newest]);
      expect(diff.changes.map((change) => change.path)).toEqual(['data/notes.txt']);
      const dumped = await runCli(['dump', 'latest', 'data/notes.txt', '-c', mine]);
      expect(dumped.stdout).toBe('mine, later\n');
    });
  });

  describe('restore as a user into a folder of their own whose parent they cannot write', () => {
    const asNobody = (args: string[]) =>
      new Promise<CliResult>((resolve) => {
        execFile(
          'setpriv',
          ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', process.execPath, CLI_BIN, ...args],
          { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });

    it('restores into the folder, and without one says which folder it cannot write', async () => {
      const dir = join(work.path, 'as-user');
      await mkdir(join(dir, 'data'), { recursive: true });
      await writeFile(join(dir, 'data', 'a.txt'), 'mine\n');
      const config = await writeConfig(dir, {
        sources: [{ name: 'data', type: 'directory', path: join(dir, 'data') }],
        destinations: [{ name: 'disk', type: 'local', path: join(dir, 'disk') }],
      });
      const id = json<{ id: string; archive: { key: string } }>(
        await runCli(['run', '--json', '-c', config]),
      );
      const archive = join(dir, 'disk', id.archive.key);
      // Root's folders, readable by all; the user owns only `home/mine`.
      for (const path of [work.path, dir, join(dir, 'disk')]) await chmod(path, 0o755);
      for (const file of await readdir(join(dir, 'disk'))) await chmod(join(dir, 'disk', file), 0o644);
      const mine = join(dir, 'home', 'mine');
      await mkdir(mine, { recursive: true, mode: 0o755 });
      await chown(mine, 65534, 65534); // nobody:nogroup

      const restored = await asNobody(['restore', archive, '--to', mine]);
      expect(restored.code, restored.stderr).toBe(0);
      expect(await readFile(join(mine, 'data', 'a.txt'), 'utf8')).toBe('mine\n');
      expect(await readdir(mine)).toEqual(['data']);

      const elsewhere = join(dir, 'home', 'not-yet');
      const refused = await asNobody(['restore', archive, '--to', elsewhere]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`hint: this user must be able to write ${elsewhere}`);
      expect(refused.stderr).not.toContain('destination');
      expect(existsSync(elsewhere)).toBe(false);
    });
  });
});
