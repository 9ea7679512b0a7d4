import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRestartableDaemon } from './spawn-daemon.js';

/**
 * A real OpenSSH server on 127.0.0.1 for the sftp and rsync-over-ssh tests.
 *
 * It logs in a dedicated local account (`mbtest`, created once, no usable
 * password) instead of root, so file permissions on the server are enforced
 * as they would be in production. sshd's StrictModes checks every folder
 * above authorized_keys for group/world write, which /tmp fails; the config
 * and keys therefore live under /run (root-owned, 0755), the stored data
 * under /tmp.
 */

const SSH_TEST_USER = 'mbtest';
const CONFIG_BASE = '/run/matric-backup-test';
/** A real home folder: without one, sshd prints "Could not chdir to home directory" into every rsync's stderr. */
const TEST_USER_HOME = '/var/lib/matric-backup-test-home';

export interface SshServerOptions {
  /** Give the test user a random password for this server's lifetime (removed again by dispose). */
  password?: boolean;
}

export interface SshServer {
  host: string;
  port: number;
  username: string;
  /** Client private key (ed25519, no passphrase) authorized for `username`. */
  keyPath: string;
  /** known_hosts with this server's key as `[127.0.0.1]:PORT`. */
  knownHostsPath: string;
  /** `SHA256:...` of the server's host key. */
  fingerprint: string;
  /** Public host key line `ssh-ed25519 AAAA...`. */
  hostKey: string;
  /** Writable folder on the server owned by `username` (also readable by the tests, which run as root). */
  root: string;
  /** Set when started with `{password: true}`. */
  password?: string;
  /** Stops sshd and every session it forked (open transfers die at once). */
  stop(): Promise<void>;
  /** Starts sshd again on the same port with the same keys. */
  restart(): Promise<void>;
  /** Stops and removes every file of this server. */
  dispose(): Promise<void>;
}

export async function startSshServer(options: SshServerOptions = {}): Promise<SshServer> {
  if (process.getuid?.() !== 0)
    throw new Error('the sshd test harness runs as root (it switches to a test user)');
  ensureTestUser();
  mkdirSync(CONFIG_BASE, { recursive: true, mode: 0o755 });
  chmodSync(CONFIG_BASE, 0o755);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = mkdtempSync(join(CONFIG_BASE, 'sshd-'));
  chmodSync(dir, 0o755);
  const root = mkdtempSync(join(tmpdir(), 'mb-sshd-data-'));
  const { uid, gid } = userIds(SSH_TEST_USER);
  chownSync(root, uid, gid);

  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  const keyPath = join(dir, 'client_ed25519');
  keygen(hostKeyPath, 'matric-backup-test-host');
  keygen(keyPath, 'matric-backup-test-client');
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${keyPath}.pub`), { mode: 0o644 });
  const hostKey = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKeyPath}.pub`], {
    encoding: 'utf8',
  }).split(' ')[1]!;

  const port = await freePort();
  const knownHostsPath = join(dir, 'known_hosts');
  writeFileSync(knownHostsPath, `[127.0.0.1]:${port} ${hostKey}\n`, { mode: 0o644 });
  const configPath = join(dir, 'sshd_config');
  writeFileSync(
    configPath,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'UsePAM no',
      'StrictModes yes',
      'PubkeyAuthentication yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      `AllowUsers ${SSH_TEST_USER}`,
      'Subsystem sftp internal-sftp',
      'MaxStartups 50:30:100',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );

  let password: string | undefined;
  if (options.password) {
    password = randomBytes(12).toString('base64url');
    userTool('chpasswd', [], `${SSH_TEST_USER}:${password}\n`);
  }

  const daemon = await startRestartableDaemon('/usr/sbin/sshd', ['-D', '-e', '-f', configPath], port);
  return {
    host: '127.0.0.1',
    port,
    username: SSH_TEST_USER,
    keyPath,
    knownHostsPath,
    fingerprint,
    hostKey,
    root,
    password,
    stop: daemon.stop,
    restart: daemon.restart,
    async dispose() {
      await daemon.stop();
      if (password) disablePassword();
      rmSync(dir, { recursive: true, force: true });
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Idempotent; concurrent harnesses may race to create it, so "already exists" is fine. */
function ensureTestUser(): void {
  let exists = true;
  try {
    userIds(SSH_TEST_USER);
  } catch {
    exists = false;
  }
  if (!exists) {
    try {
      userTool('useradd', [
        '--system',
        '--no-create-home',
        '--home-dir',
        TEST_USER_HOME,
        '--shell',
        '/bin/sh',
        SSH_TEST_USER,
      ]);
    } catch (error) {
      if (!String((error as { stderr?: Buffer }).stderr ?? '').includes('already exists')) throw error;
    }
    disablePassword();
  }
  const { uid, gid, home } = userIds(SSH_TEST_USER);
  if (home !== TEST_USER_HOME) userTool('usermod', ['--home', TEST_USER_HOME, SSH_TEST_USER]);
  mkdirSync(TEST_USER_HOME, { recursive: true, mode: 0o755 });
  chownSync(TEST_USER_HOME, uid, gid);
}

/**
 * `*`: no password matches, yet the account is not "locked" — without PAM,
 * sshd refuses every login (keys included) to an account whose hash starts with `!`.
 */
function disablePassword(): void {
  userTool('usermod', ['-p', '*', SSH_TEST_USER]);
}

/**
 * useradd, usermod and chpasswd lock /etc/passwd and /etc/shadow; harnesses that
 * start together (plugin and e2e projects) may collide, so retry "cannot lock".
 */
function userTool(command: string, args: string[], input?: string): void {
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync(command, args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
      return;
    } catch (error) {
      if (
        attempt >= 20 ||
        !/cannot lock|try again later/i.test(String((error as { stderr?: Buffer }).stderr))
      ) {
        throw error;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

function userIds(name: string): { uid: number; gid: number; home: string } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name}`);
  const [, , uid, gid, , home] = line.split(':');
  return { uid: Number(uid), gid: Number(gid), home: home! };
}

function keygen(path: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], {
    stdio: 'ignore',
  });
}

/** Another client key, not authorized on any server: for wrong-key tests. */
export function generateUnauthorizedKey(dir: string): string {
  const path = join(dir, 'unauthorized_ed25519');
  keygen(path, 'matric-backup-test-unauthorized');
  return path;
}
