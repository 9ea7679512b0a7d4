// The local destination against the yardsticks: `tar -czf`, and `matric-backup run`
// on the 256 MiB subset and the full dataset (peak RSS must stay flat as data grows).
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export default async function local(ctx) {
  const gzip = join(ctx.tmp, 'dataset.tar.gz');
  const { seconds } = await ctx.timeShell(`tar -czf ${ctx.quote(gzip)} -C ${ctx.quote(ctx.dataset)} .`);
  const rows = [{ name: 'tar -czf', seconds, outputBytes: statSync(gzip).size }];
  rmSync(gzip);

  const runs = [
    { label: 'subset', dataset: ctx.subset, bytes: ctx.subsetBytes },
    { label: 'full', dataset: ctx.dataset, bytes: ctx.datasetBytes, target: true },
  ];
  for (const { label, dataset, bytes, target } of runs) {
    const destination = join(ctx.tmp, `local-${label}`);
    const config = ctx.writeConfig(
      `- name: bench-local\n  type: local\n  path: ${JSON.stringify(destination)}\n`,
      {
        dataset,
      },
    );
    const run = await ctx.runCli(config);
    rows.push({
      name: `matric-backup run -> local (${label})`,
      seconds: run.seconds,
      bytes,
      peakRssMb: run.peakRssMb,
      outputBytes: run.summary?.archive?.size,
      target,
    });
    rmSync(destination, { recursive: true, force: true });
  }
  const [subset, full] = rows.slice(-2);
  full.note = `RSS ${full.peakRssMb >= subset.peakRssMb ? '+' : ''}${(full.peakRssMb - subset.peakRssMb).toFixed(0)} MB for ${(full.bytes / subset.bytes).toFixed(1)}x the data`;
  return rows;
}
