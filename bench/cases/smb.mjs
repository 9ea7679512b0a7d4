// The SMB destination against Samba (default security) on loopback, with a 1 GiB shard of random
// data (incompressible, so the shard really is 1 GiB): one run to the share alone (upload MB/s from
// the destination's own duration; peak RSS of the CLI), then `restore -d` from it (get + checksum +
// extract; MB/s of shard bytes). The target is on the upload: >= 100 MB/s.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeRandomSource } from '../lib/random-source.mjs';

const TARGET_MBPS = 100;
const RSS_PRELOAD = new URL('../lib/rss-preload.mjs', import.meta.url).pathname;

export default async function smb(ctx) {
  const { startSmbServer } = await import('@matric-backup/test-servers');
  const server = await startSmbServer();
  try {
    const { dir: random, bytes: shardBytes, label: shardLabel } = writeRandomSource(ctx);
    const passwordFile = join(ctx.tmp, 'smb.password');
    writeFileSync(passwordFile, `${server.password}\n`, { mode: 0o600 });

    const config = ctx.writeConfig(
      `- name: bench-smb
  type: smb
  share: ${JSON.stringify(`//${server.host}/${server.share}`)}
  port: ${server.port}
  path: bench
  username: ${server.username}
  password_file: ${JSON.stringify(passwordFile)}
`,
      { dataset: random },
    );
    ctx.log('run -> smb');
    const run = await ctx.runCli(config);
    const [upload] = run.summary.destinations;
    const uploadMbps = upload.bytes / 1e6 / (upload.duration_ms / 1000);
    const rows = [
      {
        name: `matric-backup run -> smb (${shardLabel} shard)`,
        seconds: run.seconds,
        bytes: shardBytes,
        peakRssMb: run.peakRssMb,
        outputBytes: run.summary.archive.size,
        note: `upload alone ${uploadMbps.toFixed(1)} MB/s; target >= ${TARGET_MBPS} MB/s ${uploadMbps >= TARGET_MBPS ? 'PASS' : 'FAIL'}`,
      },
    ];

    ctx.log('restore <- smb');
    const restored = join(ctx.tmp, 'restored');
    const rssFile = join(ctx.tmp, 'restore.rss');
    const { seconds } = await ctx.timeShell(
      `MATRIC_BENCH_RSS_FILE=${ctx.quote(rssFile)} ${ctx.quote(process.execPath)} --import ${ctx.quote(RSS_PRELOAD)} ` +
        `${ctx.quote(ctx.cliBin)} restore latest -d bench-smb --to ${ctx.quote(restored)} -c ${ctx.quote(config)} > /dev/null`,
    );
    rows.push({
      name: 'matric-backup restore <- smb',
      seconds,
      bytes: run.summary.archive.size,
      peakRssMb: (Number(readFileSync(rssFile, 'utf8')) * 1024) / 1e6,
      note: 'get + checksum + extract of the shard',
    });
    rmSync(restored, { recursive: true, force: true });
    return rows;
  } finally {
    await server.stop();
  }
}
