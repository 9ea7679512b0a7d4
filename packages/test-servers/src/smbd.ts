import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Daemon, freePort, startDaemon } from './spawn-daemon.js';

/**
 * A real Samba server on 127.0.0.1 for the smb plugin and end-to-end tests.
 *
 * Samba's security settings are left at their defaults (SMB2/3 dialects,
 * NTLMv2 only, signing as the server negotiates it): the plugin must work
 * against a server configured the way an administrator would. Only where
 * smbd keeps its state, which port it listens on and which printing
 * machinery it skips are set here. Every state folder lives in a temp folder,
 * so nothing under /var/lib/samba or /run/samba is touched.
 */

const SMB_TEST_USER = 'mbsmb';

export interface SmbServer {
  host: string;
  port: number;
  /** Share name (connect to `//host/share`). */
  share: string;
  username: string;
  /** Has a space, quotes, `=` and `#`, so the auth file format is exercised. */
  password: string;
  /** The share's folder on disk, owned by `username` (readable by the tests, which run as root). */
  root: string;
  /** Stops smbd and every process it forked, then removes all of this server's files. */
  stop(): Promise<void>;
}

export async function startSmbServer(): Promise<SmbServer> {
  if (process.getuid?.() !== 0)
    throw new Error('the smbd test harness runs as root (smbd switches to the share user)');
  ensureUnixUser();

  const dir = mkdtempSync(join(tmpdir(), 'mb-smbd-'));
  // smbd opens the share as the share user, who must be able to traverse down to it.
  chmodSync(dir, 0o711);
  const state = (name: string) => {
    const path = join(dir, name);
    mkdirSync(path, { mode: 0o700 });
    return path;
  };
  const root = join(dir, 'share');
  mkdirSync(root, { mode: 0o700 });
  const { uid, gid } = userIds(SMB_TEST_USER);
  chownSync(root, uid, gid);

  const port = await freePort();
  const share = 'backup';
  const privateDir = state('private');
  const configPath = join(dir, 'smb.conf');
  writeFileSync(
    configPath,
    [
      '[global]',
      '  server role = standalone server',
      '  interfaces = lo',
      '  bind interfaces only = yes',
      `  smb ports = ${port}`,
      `  lock directory = ${state('lock')}`,
      `  state directory = ${state('state')}`,
      `  cache directory = ${state('cache')}`,
      `  pid directory = ${state('pid')}`,
      `  ncalrpc dir = ${state('ncalrpc')}`,
      `  private dir = ${privateDir}`,
      `  binddns dir = ${state('binddns')}`,
      `  usershare path = ${state('usershares')}`,
      `  passdb backend = tdbsam:${join(privateDir, 'passdb.tdb')}`,
      `  log file = ${join(dir, 'log.%m')}`,
      '  log level = 1',
      // No printers: smbd would otherwise start the print spooler helpers and read /etc/printcap.
      '  load printers = no',
      '  printing = bsd',
      '  printcap name = /dev/null',
      '  disable spoolss = yes',
      '',
      `[${share}]`,
      `  path = ${root}`,
      '  read only = no',
      `  valid users = ${SMB_TEST_USER}`,
      '',
    ].join('\n'),
  );

  // Random, plus the characters the smbclient/mount.cifs auth file format must carry verbatim.
  const password = `${randomBytes(9).toString('base64url')} "q'=#`;
  execFileSync('smbpasswd', ['-a', '-s', '-c', configPath, SMB_TEST_USER], {
    input: `${password}\n${password}\n`,
    stdio: ['pipe', 'ignore', 'pipe'],
  });

  const daemon: Daemon = await startDaemon(
    'smbd',
    ['--foreground', '--no-process-group', `--configfile=${configPath}`],
    port,
  );
  return {
    host: '127.0.0.1',
    port,
    share,
    username: SMB_TEST_USER,
    password,
    root,
    async stop() {
      await daemon.kill();
      // A child smbd forked for a connection just as the tree was killed may still be writing its lock
      // files for a moment (rmdir then fails with ENOTEMPTY): retried, as rm's own option does.
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
}

/** Samba maps every SMB user to a unix account. Idempotent; concurrent harnesses may race to create it. */
function ensureUnixUser(): void {
  try {
    userIds(SMB_TEST_USER);
    return;
  } catch {
    // not there yet
  }
  try {
    execFileSync(
      'useradd',
      [
        '--system',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        SMB_TEST_USER,
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    if (!String((error as { stderr?: Buffer }).stderr ?? '').includes('already exists')) throw error;
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
