// Restore throughput: `matric-backup restore` (checksum of the stored object, zstd, tar,
// every file hashed against the inner manifest, modes and mtimes, then the move into
// place) against the yardstick `zstd -d | tar -x` on the same shard, from a local destination.
// Each is timed ROUNDS times, alternating, after a `sync` and a pause: on a shared disk the cost of
// creating thousands of files swings by 3x within seconds (and on this machine's ext4, mounted with
// `discard`, deleting the previous round's 30,000 files keeps the disk busy after `sync` returns),
// so each round's pair is compared and the median of those ratios is reported, with the median
// times. The same rounds then run into tmpfs (/dev/shm), where no disk is involved at all.
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const RSS_PRELOAD = new URL('../lib/rss-preload.mjs', import.meta.url).pathname;
const ROUNDS = 3;
const SETTLE_SECONDS = 5;
const TMPFS = '/dev/shm';

export default async function restore(ctx) {
  const backups = join(ctx.tmp, 'backups');
  const config = ctx.writeConfig(`- name: bench-local\n  type: local\n  path: ${JSON.stringify(backups)}\n`);
  ctx.log('backing up the dataset once');
  const { summary } = await ctx.runCli(config);
  const shard = join(backups, summary.archive.key);
  const rows = await compare(ctx, {
    config,
    shard,
    id: summary.id,
    size: summary.archive.size,
    into: ctx.tmp,
    label: '',
  });
  if (writable(TMPFS)) {
    const into = mkdtempSync(join(TMPFS, 'matric-bench-'));
    try {
      rows.push(
        ...(await compare(ctx, {
          config,
          shard,
          id: summary.id,
          size: summary.archive.size,
          into,
          label: ' (tmpfs)',
        })),
      );
    } finally {
      rmSync(into, { recursive: true, force: true });
    }
  }
  return rows;
}

async function compare(ctx, { config, shard, id, size, into, label }) {
  const plain = join(into, 'by-tar');
  const target = join(into, 'restored');
  const rssFile = join(ctx.tmp, 'restore-rss');
  const q = ctx.quote;
  const settle = () => ctx.timeShell(`sync && sleep ${SETTLE_SECONDS}`);

  const yardstick = [];
  const ours = [];
  let peakRssMb = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    ctx.log(`round ${round} of ${ROUNDS}${label}`);
    await settle();
    yardstick.push(
      (await ctx.timeShell(`mkdir ${q(plain)} && zstd -d -q -c ${q(shard)} | tar -xf - -C ${q(plain)}`))
        .seconds,
    );
    rmSync(plain, { recursive: true, force: true });
    await settle();
    const run = await ctx.timeShell(
      `MATRIC_BENCH_RSS_FILE=${q(rssFile)} NO_COLOR=1 ${q(process.execPath)} --import ${q(RSS_PRELOAD)} ${q(ctx.cliBin)} restore ${id} --to ${q(target)} -c ${q(config)} --json > /dev/null`,
    );
    ours.push(run.seconds);
    peakRssMb = Math.max(peakRssMb, (Number(readFileSync(rssFile, 'utf8')) * 1024) / 1e6);
    rmSync(target, { recursive: true, force: true });
  }

  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const seconds = (times) => times.map((s) => s.toFixed(2)).join(', ');
  const ratio = median(yardstick.map((tar, round) => tar / ours[round]));
  return [
    {
      name: `zstd -d | tar -x (restore yardstick)${label}`,
      seconds: median(yardstick),
      outputBytes: size,
      note: `runs: ${seconds(yardstick)} s`,
    },
    {
      name: `matric-backup restore <- local${label}`,
      seconds: median(ours),
      peakRssMb,
      outputBytes: size,
      note: `${ratio.toFixed(2)}x zstd -d | tar -x, median of the rounds' ratios (target >= 0.5); runs: ${seconds(ours)} s`,
    },
  ];
}

function writable(path) {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
