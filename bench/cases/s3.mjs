// The S3 destination against s3rver on loopback: the mixed dataset (comparable to the local case),
// and a 1 GiB shard (incompressible data, so the shard really is 1 GiB). The run's own summary gives
// the upload alone (bytes / the destination's duration); peak RSS must stay <= 200 MB whatever the size.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1024 * 1024;
const MAX_RSS_MB = 200;

function writeRandomFile(path, size) {
  const fd = openSync(path, 'w');
  try {
    for (let left = size; left > 0; left -= 8 * MiB) writeSync(fd, randomBytes(Math.min(8 * MiB, left)));
  } finally {
    closeSync(fd);
  }
}

export default async function s3(ctx) {
  const { startS3Server } = await import('../../test/servers/s3.ts');
  const server = await startS3Server();
  try {
    const destination = `- name: bench-s3
  type: s3
  endpoint: ${server.endpoint}
  bucket: ${server.bucket}
  prefix: bench/
  access_key_id: ${server.accessKeyId}
  secret_access_key: ${server.secretAccessKey}
`;
    const random = join(ctx.tmp, 'random');
    mkdirSync(random);
    const shardBytes = Math.round(1024 * MiB * Math.min(1, Number(process.env.BENCH_SCALE ?? 1)));
    ctx.log(`writing ${shardBytes / MiB} MiB of random data`);
    writeRandomFile(join(random, 'random.bin'), shardBytes);

    const runs = [
      { name: 'matric-backup run -> s3 (mixed dataset)', dataset: ctx.dataset, bytes: ctx.datasetBytes },
      { name: 'matric-backup run -> s3 (1 GiB shard)', dataset: random, bytes: shardBytes },
    ];
    const rows = [];
    for (const { name, dataset, bytes } of runs) {
      ctx.log(name);
      const run = await ctx.runCli(ctx.writeConfig(destination, { dataset }));
      const [upload] = run.summary.destinations;
      const uploadMbps = upload.bytes / 1e6 / (upload.durationMs / 1000);
      const lean = run.peakRssMb !== undefined && run.peakRssMb <= MAX_RSS_MB;
      rows.push({
        name,
        seconds: run.seconds,
        bytes,
        peakRssMb: run.peakRssMb,
        outputBytes: run.summary.archive.size,
        note: `upload alone ${uploadMbps.toFixed(1)} MB/s; RSS ${lean ? 'PASS' : 'FAIL'} (<= ${MAX_RSS_MB} MB)`,
      });
    }
    return rows;
  } finally {
    await server.dispose();
  }
}
