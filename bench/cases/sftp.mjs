// SFTP, rsync over ssh and rsync to a daemon, each against a real server on loopback, with a 1 GiB
// shard of random data (incompressible, so the shard really is 1 GiB). For each transport: one run
// to that destination alone (upload MB/s from the destination's own duration; peak RSS of the CLI),
// then `restore -d` from it (get + checksum + extract; MB/s of shard bytes). The targets are
// on the upload: sftp >= 60 MB/s, rsync daemon >= 200 MB/s.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeRandomSource } from '../lib/random-source.mjs';

const RSS_PRELOAD = new URL('../lib/rss-preload.mjs', import.meta.url).pathname;

export default async function sftp(ctx) {
  const { startRsyncServer, startSshServer } = await import('@matric-backup/test-servers');
  const [sshd, rsyncd] = await Promise.all([startSshServer(), startRsyncServer()]);
  try {
    const { dir: random, bytes: shardBytes, label: shardLabel } = writeRandomSource(ctx);
    const passwordFile = join(ctx.tmp, 'rsyncd.password');
    writeFileSync(passwordFile, `${rsyncd.password}\n`, { mode: 0o600 });

    const transports = [
      {
        label: 'sftp',
        target: 60,
        stored: join(sshd.root, 'sftp'),
        yaml: `- name: bench-sftp
  type: sftp
  host: ${sshd.host}
  port: ${sshd.port}
  username: ${sshd.username}
  path: ${JSON.stringify(join(sshd.root, 'sftp'))}
  ssh_key: ${JSON.stringify(sshd.keyPath)}
  known_hosts: ${JSON.stringify(sshd.knownHostsPath)}
`,
      },
      {
        label: 'rsync over ssh',
        stored: join(sshd.root, 'rsync'),
        yaml: `- name: bench-rsync-ssh
  type: rsync
  target: ${JSON.stringify(`${sshd.username}@${sshd.host}:${join(sshd.root, 'rsync')}`)}
  port: ${sshd.port}
  ssh_key: ${JSON.stringify(sshd.keyPath)}
  host_key_fingerprint: ${JSON.stringify(sshd.fingerprint)}
`,
      },
      {
        label: 'rsync daemon',
        target: 200,
        stored: join(rsyncd.root, 'bench'),
        yaml: `- name: bench-rsyncd
  type: rsync
  target: ${JSON.stringify(`${rsyncd.url}/bench`)}
  password_file: ${JSON.stringify(passwordFile)}
`,
      },
    ];

    const rows = [];
    for (const { label, target, stored, yaml } of transports) {
      ctx.log(`run -> ${label}`);
      const config = ctx.writeConfig(yaml, { dataset: random });
      const run = await ctx.runCli(config);
      const [upload] = run.summary.destinations;
      const uploadMbps = upload.bytes / 1e6 / (upload.duration_ms / 1000);
      const verdict = target ? `; target >= ${target} MB/s ${uploadMbps >= target ? 'PASS' : 'FAIL'}` : '';
      rows.push({
        name: `matric-backup run -> ${label} (${shardLabel} shard)`,
        seconds: run.seconds,
        bytes: shardBytes,
        peakRssMb: run.peakRssMb,
        outputBytes: run.summary.archive.size,
        note: `upload alone ${uploadMbps.toFixed(1)} MB/s${verdict}`,
      });

      ctx.log(`restore <- ${label}`);
      const restored = join(ctx.tmp, 'restored');
      const rssFile = join(ctx.tmp, 'restore.rss');
      const { seconds } = await ctx.timeShell(
        `MATRIC_BENCH_RSS_FILE=${ctx.quote(rssFile)} ${ctx.quote(process.execPath)} --import ${ctx.quote(RSS_PRELOAD)} ` +
          `${ctx.quote(ctx.cliBin)} restore latest -d ${upload.name} --to ${ctx.quote(restored)} -c ${ctx.quote(config)} > /dev/null`,
      );
      rows.push({
        name: `matric-backup restore <- ${label}`,
        seconds,
        bytes: run.summary.archive.size,
        peakRssMb: (Number(readFileSync(rssFile, 'utf8')) * 1024) / 1e6,
        note: 'get + checksum + extract of the shard',
      });
      rmSync(restored, { recursive: true, force: true });
      rmSync(stored, { recursive: true, force: true });
    }
    return rows;
  } finally {
    await Promise.all([sshd.dispose(), rsyncd.dispose()]);
  }
}
