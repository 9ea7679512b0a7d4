// matric-backup against the tools operators compare it with, on the same data: a first full
// backup into a fresh repository or folder, then a restore of it into a new folder, by
// `tar | zstd -3 -T1`, `matric-backup` (the built CLI, run by node directly), restic and borg.
// Two datasets: the bench dataset and a copy of /usr/share/doc (thousands of small files, where
// per-file cost dominates). Each round runs every tool once, in a rotating order, after a `sync`
// and a pause, so a busy minute on a shared machine hits every tool alike; the table gives medians
// and each tool's median of per-round ratios to tar | zstd. Repositories are created (restic
// init, borg init) outside the timed part. Wall time and peak RSS come from GNU time (`%e %M`):
// for a pipeline, the largest process in it.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { binNodeFlags } from '../lib/measure.mjs';

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
  for (const dataset of datasets) tables.push(table(dataset, await compare(ctx, dataset)));
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

function tools(ctx, dataset, work) {
  const q = ctx.quote;
  const src = q(dataset.dir);
  const config = ctx.writeConfig(
    `- name: bench-local\n  type: local\n  path: ${JSON.stringify(join(work, 'matric'))}\n`,
    { dataset: dataset.dir },
  );
  const node = [process.execPath, ...binNodeFlags(ctx.cliBin), ctx.cliBin].map(q).join(' ');
  const shardId = () => JSON.parse(readFileSync(join(work, 'matric.json'), 'utf8')).id;
  const restic = `RESTIC_PASSWORD=${PASSWORD} RESTIC_REPOSITORY=${q(join(work, 'restic'))} restic --no-cache -q`;
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
      // each round gets a new config with its own, empty state folder
      restore: (to) =>
        `NO_COLOR=1 ${node} restore ${shardId()} --to ${q(to)} -c ${q(config)} --json > /dev/null`,
      size: size(join(work, 'matric')),
    },
    {
      name: '`restic backup` (encrypted, compression auto)',
      init: `${restic} init`,
      backup: `cd ${src} && ${restic} backup --compression auto .`,
      restore: (to) => `${restic} restore latest --target ${q(to)}`,
      size: size(join(work, 'restic')),
    },
    {
      name: '`borg create --compression zstd,3` (no encryption)',
      init: `${borg} init --encryption none`,
      backup: `cd ${src} && ${borg} create --compression zstd,3 ::bench .`,
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
  for (let round = 0; round < ROUNDS; round++) {
    const roundTools = tools(ctx, dataset, work);
    results ??= roundTools.map(({ name }) => ({ name, backup: [], restore: [], outputBytes: [] }));
    // A rotating order: no tool always runs first (cold) or right after the heaviest one.
    const order = roundTools.map((_, i) => (i + round) % roundTools.length);
    for (const i of order) {
      const tool = roundTools[i];
      ctx.log(`${dataset.label}: round ${round + 1} of ${ROUNDS}: ${tool.name}`);
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      if (tool.init) await ctx.timeShell(`${tool.init} > /dev/null`);
      await settle(ctx);
      results[i].backup.push(await timed(ctx, tool.backup, work));
      results[i].outputBytes.push(Number(execFileSync('bash', ['-c', tool.size], { encoding: 'utf8' })));
      const to = join(work, 'restored');
      mkdirSync(to);
      await settle(ctx);
      results[i].restore.push(await timed(ctx, tool.restore(to), work));
      rmSync(work, { recursive: true, force: true });
    }
  }
  for (const tool of results) tool.tar = results[0];
  return results;
}

function settle(ctx) {
  return ctx.timeShell(`sync && sleep ${SETTLE_SECONDS}`);
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

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The median over rounds of (tar | zstd's seconds / this tool's seconds): >1 is faster than tar | zstd. */
function ratio(tool, phase) {
  return median(tool[phase].map((r, round) => tool.tar[phase][round].seconds / r.seconds));
}

function table(dataset, results) {
  const lines = [
    `${dataset.label}: ${(dataset.bytes / 1e6).toFixed(0)} MB, ${ROUNDS} rounds, medians; "x tar" = median of the rounds' (tar | zstd seconds / this tool's seconds), higher is faster`,
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
