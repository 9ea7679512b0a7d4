import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRestartableDaemon } from './spawn-daemon.js';

/**
 * A real rsync daemon on 127.0.0.1 with one password-protected, writable
 * module. The secrets file must be mode 600 or rsync refuses every login.
 */

export interface RsyncServer {
  host: string;
  port: number;
  module: string;
  username: string;
  password: string;
  /** The module's folder on disk. */
  root: string;
  /** `rsync://user@127.0.0.1:PORT/module` (no trailing slash). */
  url: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startRsyncServer(): Promise<RsyncServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mb-rsyncd-'));
  const root = join(dir, 'module');
  mkdirSync(root);
  const username = 'mbrsync';
  const password = randomBytes(12).toString('base64url');
  const module = 'backup';
  const secrets = join(dir, 'rsyncd.secrets');
  writeFileSync(secrets, `${username}:${password}\n`, { mode: 0o600 });
  chmodSync(secrets, 0o600);

  const port = await freePort();
  const configPath = join(dir, 'rsyncd.conf');
  writeFileSync(
    configPath,
    [
      `pid file = ${join(dir, 'rsyncd.pid')}`,
      `log file = ${join(dir, 'rsyncd.log')}`,
      'use chroot = no',
      // No DNS lookup of each client: on a sandbox without a resolver it adds ~100 ms per connection.
      'reverse lookup = no',
      'uid = root',
      'gid = root',
      `[${module}]`,
      `  path = ${root}`,
      '  read only = no',
      `  auth users = ${username}`,
      `  secrets file = ${secrets}`,
      '',
    ].join('\n'),
  );

  const args = ['--daemon', '--no-detach', `--config=${configPath}`, `--port=${port}`, '--address=127.0.0.1'];
  const daemon = await startRestartableDaemon('rsync', args, port);
  return {
    host: '127.0.0.1',
    port,
    module,
    username,
    password,
    root,
    url: `rsync://${username}@127.0.0.1:${port}/${module}`,
    stop: daemon.stop,
    restart: daemon.restart,
    async dispose() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
