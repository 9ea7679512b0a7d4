// matric-backup against the tools operators compare it with, on the same data: a first full
// backup into a fresh repository or folder, then a restore of it into a new folder, by
// `tar | zstd -3 -T1`, `matric-backup` (the built CLI, run by node directly), restic and borg.
// Two datasets: the bench dataset and a copy of /usr/share/doc (thousands of small files, where
// per-file cost dominates). Each round runs every tool once, in a rotating order, after a `sync`
// and a pause, so a busy minute on a shared machine hits every tool alike; the table gives medians
// and each tool's median of per-round ratios to tar | zstd. Repositories are created (restic
// init, borg init) outside the timed part. Wall time and peak RSS come from GNU time (`%e %M`):
// for a pipeline, the largest process in it.
// Each tool backs up a private copy of the dataset (copied outside the timed part), so that after
// the restore matric-backup, restic and borg can back it up again: once unchanged, and once after
// 1 % of its files (every 100th in path order) grew by a line; a second table gives those wall
// times and the bytes each backup added to the repository or folder. matric-backup runs with
// `backup.incremental` (its default policy), restic with a cache in the work folder, as users run it.
// Before each restore, the files the backup wrote (everything in the work folder but the source
// copy) are evicted from the page cache (`dd iflag=nocache count=0`, file by file): a restore reads
// a backup made long before, so it must not find the archive in memory because the backup that
// wrote it went through the cache (tar | zstd, restic, borg) while another wrote past it
// (matric-backup's spool files for local folders). The rest of the cache is left as it is.
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { binNodeFlags } from '../lib/measure.mjs';
import { median } from '../lib/stats.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 2);
const SMALL_FILES_SOURCE = '/usr/share/doc';
const PASSWORD = 'bench-only-password';

export default async function peers(ctx) {
  ensurePeers(ctx);
  const smallFiles = ensureSmallFiles(ctx);
  const datasets = [
    { label: 'bench dataset', dir: ctx.dataset },
    { label: '/usr/share/doc copy', dir: smallFiles },
  ];
  const tables = [];
  for (const dataset of datasets) {
    const results = await compare(ctx, dataset);
    tables.push(table(dataset, results), againTable(dataset, results));
  }
  // Its own table only: the main table's ratio is to the bench dataset's yardstick.
  return { rows: [], tables };
}

/** restic and borg from the Debian archive when missing (the bench runs as root on Debian). */
function ensurePeers(ctx) {
  const missing = [
    ['restic', 'restic'],
    ['borg', 'borgbackup'],
  ].filter(([command]) => !onPath(command));
  if (!missing.length) return;
  const packages = missing.map(([, name]) => name);
  ctx.log(`installing ${packages.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env });
}

function onPath(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A private copy of /usr/share/doc, cached beside the other datasets (a real tree, not ours to back up in place). */
function ensureSmallFiles(ctx) {
  const dir = join(ctx.tmp, '..', '..', 'usr-share-doc');
  if (!existsSync(join(dir, '.complete'))) {
    ctx.log(`copying ${SMALL_FILES_SOURCE} to ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    cpSync(SMALL_FILES_SOURCE, join(dir, 'doc'), { recursive: true, verbatimSymlinks: true });
    execFileSync('touch', [join(dir, '.complete')]);
  }
  return join(dir, 'doc');
}

/** The tools, backing up `copy` (a private copy of the dataset); `again(n)` is the nth backup of it. */
function tools(ctx, copy, work) {
  const q = ctx.quote;
  const src = q(copy);
  const config = ctx.writeConfig(
    `- name: bench-local\n  type: local\n  path: ${JSON.stringify(join(work, 'matric'))}\n`,
    { dataset: copy },
  );
  writeFileSync(config, `${readFileSync(config, 'utf8')}  incremental: {}\n`);
  const node = [process.execPath, ...binNodeFlags(ctx.cliBin), ctx.cliBin].map(q).join(' ');
  const shardId = () => JSON.parse(readFileSync(join(work, 'matric.json'), 'utf8')).id;
  const restic = `RESTIC_PASSWORD=${PASSWORD} RESTIC_REPOSITORY=${q(join(work, 'restic'))} RESTIC_CACHE_DIR=${q(join(work, 'restic-cache'))} restic -q`;
  const borg = `BORG_BASE_DIR=${q(join(work, 'borg-home'))} BORG_REPO=${q(join(work, 'borg'))} BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes borg`;
  const size = (path) => `du -sb ${q(path)} | cut -f1`;
  return [
    {
      name: '`tar -cf - . | zstd -3 -T1`',
      backup: `tar -cf - -C ${src} . | zstd -3 -T1 -q -o ${q(join(work, 'tar.zst'))}`,
      restore: (to) => `zstd -d -q -c ${q(join(work, 'tar.zst'))} | tar -xf - -C ${q(to)}`,
      size: size(join(work, 'tar.zst')),
    },
    {
      name: '`matric-backup run` -> local',
      backup: `NO_COLOR=1 ${node} run -c ${q(config)} --json > ${q(join(work, 'matric.json'))}`,
      again: (n) => `NO_COLOR=1 ${node} run -c ${q(config)} --json > ${q(join(work, `matric-${n}.json`))}`,
      // each round gets a new config with its own, empty state folder
      restore: (to) =>
        `NO_COLOR=1 ${node} restore ${shardId()} --to ${q(to)} -c ${q(config)} --json > /dev/null`,
      size: size(join(work, 'matric')),
    },
    {
      name: '`restic backup` (encrypted, compression auto)',
      init: `${restic} init`,
      backup: `cd ${src} && ${restic} backup --compression auto .`,
      again: () => `cd ${src} && ${restic} backup --compression auto .`,
      restore: (to) => `${restic} restore latest --target ${q(to)}`,
      size: size(join(work, 'restic')),
    },
    {
      name: '`borg create --compression zstd,3` (no encryption)',
      init: `${borg} init --encryption none`,
      backup: `cd ${src} && ${borg} create --compression zstd,3 ::bench .`,
      again: (n) => `cd ${src} && ${borg} create --compression zstd,3 ::bench-${n} .`,
      restore: (to) => `cd ${q(to)} && ${borg} extract ::bench`,
      size: size(join(work, 'borg')),
    },
  ];
}

async function compare(ctx, dataset) {
  dataset.bytes = Number(
    execFileSync('du', ['-sb', '--apparent-size', dataset.dir], { encoding: 'utf8' }).split('\t')[0],
  );
  const work = join(ctx.tmp, 'work');
  let results;
  const copy = join(work, 'src');
  for (let round = 0; round < ROUNDS; round++) {
    const roundTools = tools(ctx, copy, work);
    results ??= roundTools.map(({ name, again }) => ({
      name,
      backup: [],
      restore: [],
      outputBytes: [],
      ...(again && { unchanged: [], unchangedBytes: [], changed: [], changedBytes: [] }),
    }));
    // A rotating order: no tool always runs first (cold) or right after the heaviest one.
    const order = roundTools.map((_, i) => (i + round) % roundTools.length);
    for (const i of order) {
      const tool = roundTools[i];
      ctx.log(`${dataset.label}: round ${round + 1} of ${ROUNDS}: ${tool.name}`);
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      execFileSync('cp', ['-a', dataset.dir, copy]);
      if (tool.init) await ctx.timeShell(`${tool.init} > /dev/null`);
      await settle(ctx);
      results[i].backup.push(await timed(ctx, tool.backup, work));
      results[i].outputBytes.push(Number(execFileSync('bash', ['-c', tool.size], { encoding: 'utf8' })));
      const to = join(work, 'restored');
      mkdirSync(to);
      await settle(ctx, { evict: { work, keep: copy } });
      results[i].restore.push(await timed(ctx, tool.restore(to), work));
      rmSync(to, { recursive: true, force: true });
      if (tool.again) {
        const stored = () => Number(execFileSync('bash', ['-c', tool.size], { encoding: 'utf8' }));
        let before = stored();
        await settle(ctx);
        results[i].unchanged.push(await timed(ctx, tool.again(2), work));
        results[i].unchangedBytes.push(stored() - before);
        before = stored();
        results[i].changedFiles = changeOnePercent(copy);
        await settle(ctx);
        results[i].changed.push(await timed(ctx, tool.again(3), work));
        results[i].changedBytes.push(stored() - before);
      }
      rmSync(work, { recursive: true, force: true });
    }
  }
  for (const tool of results) tool.tar = results[0];
  return results;
}

/** Appends a line to every 100th file of `dir` in path order; returns how many. */
function changeOnePercent(dir) {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  let changed = 0;
  for (let index = 0; index < files.length; index += 100, changed++)
    appendFileSync(files[index], `changed for the second backup ${index}\n`);
  return changed;
}

/** `sync` and a pause; with `evict`, the files under `work` but outside `keep` leave the page cache first. */
function settle(ctx, { evict } = {}) {
  const uncache = evict
    ? ` && find ${ctx.quote(evict.work)} -path ${ctx.quote(evict.keep)} -prune -o -type f -exec dd if={} iflag=nocache count=0 status=none ';'`
    : '';
  return ctx.timeShell(`sync${uncache} && sleep ${SETTLE_SECONDS}`);
}

/** Wall seconds and peak RSS (MB) of a shell command, from GNU time. */
async function timed(ctx, script, work) {
  const out = join(work, 'time.out');
  await ctx.timeShell(
    `/usr/bin/time -f '%e %M' -o ${ctx.quote(out)} bash -o pipefail -c ${ctx.quote(script)}`,
  );
  const [seconds, kib] = readFileSync(out, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  rmSync(out);
  return { seconds, rssMb: (kib * 1024) / 1e6 };
}

/** The median over rounds of (tar | zstd's seconds / this tool's seconds): >1 is faster than tar | zstd. */
function ratio(tool, phase) {
  return median(tool[phase].map((r, round) => tool.tar[phase][round].seconds / r.seconds));
}

function table(dataset, results) {
  const lines = [
    `${dataset.label}: ${(dataset.bytes / 1e6).toFixed(0)} MB, ${ROUNDS} rounds, medians; "x tar" = median of the rounds' (tar | zstd seconds / this tool's seconds), higher is faster; restores with the backup's files evicted from the page cache`,
    '',
    '| tool | backup s | x tar | backup peak RSS MB | stored MB | restore s | x tar | restore peak RSS MB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const tool of results)
    lines.push(
      `| ${tool.name.replaceAll('|', '\\|')} | ${median(tool.backup.map((r) => r.seconds)).toFixed(2)} | ${ratio(tool, 'backup').toFixed(2)} | ${Math.max(...tool.backup.map((r) => r.rssMb)).toFixed(0)} | ${(median(tool.outputBytes) / 1e6).toFixed(0)} | ${median(tool.restore.map((r) => r.seconds)).toFixed(2)} | ${ratio(tool, 'restore').toFixed(2)} | ${Math.max(...tool.restore.map((r) => r.rssMb)).toFixed(0)} |`,
    );
  return lines.join('\n');
}

const size = (bytes) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`);

/** Backing the same copy up again: unchanged, then after 1 % of its files changed. */
function againTable(dataset, results) {
  const tools = results.filter((tool) => tool.unchanged);
  const lines = [
    `${dataset.label}, backed up again (${ROUNDS} rounds, medians): unchanged, then after ${tools[0]?.changedFiles ?? 0} files (1 %) grew by a line; "stored" = bytes the backup added to the repository or folder`,
    '',
    '| tool | unchanged: s | stored | peak RSS MB | 1 % changed: s | stored | peak RSS MB |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const tool of tools)
    lines.push(
      `| ${tool.name.replaceAll('|', '\\|')} | ${median(tool.unchanged.map((r) => r.seconds)).toFixed(2)} | ${size(median(tool.unchangedBytes))} | ${Math.max(...tool.unchanged.map((r) => r.rssMb)).toFixed(0)} | ${median(tool.changed.map((r) => r.seconds)).toFixed(2)} | ${size(median(tool.changedBytes))} | ${Math.max(...tool.changed.map((r) => r.rssMb)).toFixed(0)} |`,
    );
  return lines.join('\n');
}
