// Fan-out: the same first full backup of the bench dataset to one local destination and to
// three (all on this machine's one disk: the first takes the spool by a hard link, the other two
// copy it), alternating one and three in each round so a busy minute hits both alike. The goal is
// three destinations in at most 1.15x the wall time of one; the note gives the median of the
// rounds' ratios.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '../lib/stats.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

export default async function fanout(ctx) {
  const destinations = (count, round) =>
    Array.from({ length: count }, (_, index) => join(ctx.tmp, `r${round}-of${count}-${index + 1}`));
  const configFor = (paths) =>
    ctx.writeConfig(
      paths
        .map((path, index) => `- name: local-${index + 1}\n  type: local\n  path: ${JSON.stringify(path)}\n`)
        .join(''),
    );
  const seconds = { 1: [], 3: [] };
  const peaks = { 1: [], 3: [] };
  const ratios = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate which goes first, so neither always meets the page cache the other left.
    for (const count of round % 2 === 0 ? [1, 3] : [3, 1]) {
      const paths = destinations(count, round);
      ctx.log(`round ${round + 1}/${ROUNDS}: ${count} destination(s)`);
      const run = await ctx.runCli(configFor(paths));
      seconds[count].push(run.seconds);
      peaks[count].push(run.peakRssMb);
      for (const path of paths) rmSync(path, { recursive: true, force: true });
    }
    ratios.push(seconds[3][round] / seconds[1][round]);
  }
  return [
    {
      name: 'run -> 1 local',
      seconds: median(seconds[1]),
      peakRssMb: median(peaks[1]),
      note: `median of ${ROUNDS}`,
    },
    {
      name: 'run -> 3 local (one disk)',
      seconds: median(seconds[3]),
      peakRssMb: median(peaks[3]),
      note: `${median(ratios).toFixed(2)}x one destination (median of ${ROUNDS} rounds' ratios; goal <= 1.15x)`,
    },
  ];
}
