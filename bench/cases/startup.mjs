// Start-up: what every command pays before it does anything. `matric-backup --version` and a
// `run` of a one-file source to a local folder, end to end, against `node -e 0` (node's own
// start-up on this machine), each the median of START_RUNS runs taken in turn. Goals: --version
// at most 0.15 s, the tiny run at most 0.4 s.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binNodeFlags } from '../lib/measure.mjs';
import { median } from '../lib/stats.mjs';

const RUNS = Number(process.env.BENCH_START_RUNS ?? 11);

export default async function startup(ctx) {
  const node = ctx.quote(process.execPath);
  const bin = [...binNodeFlags(ctx.cliBin), ctx.cliBin].map(ctx.quote).join(' ');
  const source = join(ctx.tmp, 'tiny');
  mkdirSync(source);
  writeFileSync(join(source, 'hello.txt'), 'hello\n');
  const destination = join(ctx.tmp, 'tiny-backups');
  const config = ctx.writeConfig(`- name: tiny\n  type: local\n  path: ${JSON.stringify(destination)}\n`, {
    dataset: source,
  });

  const times = { node: [], version: [], run: [] };
  for (let round = 0; round < RUNS; round++) {
    times.node.push((await ctx.timeShell(`${node} -e 0`)).seconds);
    times.version.push((await ctx.timeShell(`${node} ${bin} --version > /dev/null`)).seconds);
    times.run.push((await ctx.runCli(config)).seconds);
  }
  rmSync(destination, { recursive: true, force: true });
  const row = (what, values, goal) => `| ${what} | ${median(values).toFixed(3)} | ${goal} |`;
  return {
    rows: [],
    tables: [
      [
        `Start-up: wall seconds, median of ${RUNS} runs taken in turn`,
        '',
        '| command | seconds | goal |',
        '| --- | --- | --- |',
        row('`node -e 0` (node alone)', times.node, ''),
        row('`matric-backup --version`', times.version, '<= 0.15'),
        row('`matric-backup run` of a one-file source to a local folder', times.run, '<= 0.4'),
      ].join('\n'),
    ],
  };
}
