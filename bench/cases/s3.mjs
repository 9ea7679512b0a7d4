// The S3 destination against s3rver on loopback: the mixed dataset (comparable to the local case),
// and a 1 GiB shard (incompressible data, so the shard really is 1 GiB). The run's own summary gives
// the upload alone (bytes / the destination's duration); peak RSS must stay <= 200 MB whatever the size.
import { writeRandomSource } from '../lib/random-source.mjs';

const MAX_RSS_MB = 200;

export default async function s3(ctx) {
  const { startS3Server } = await import('@matric-backup/test-servers');
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
    const { dir: random, bytes: shardBytes, label: shardLabel } = writeRandomSource(ctx);

    const runs = [
      { name: 'matric-backup run -> s3 (mixed dataset)', dataset: ctx.dataset, bytes: ctx.datasetBytes },
      { name: `matric-backup run -> s3 (${shardLabel} shard)`, dataset: random, bytes: shardBytes },
    ];
    const rows = [];
    for (const { name, dataset, bytes } of runs) {
      ctx.log(name);
      const run = await ctx.runCli(ctx.writeConfig(destination, { dataset }));
      const [upload] = run.summary.destinations;
      const uploadMbps = upload.bytes / 1e6 / (upload.duration_ms / 1000);
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
