import { posix } from 'node:path';

/**
 * `target:` in rsync's own form: `user@host:/path` (over ssh; a relative path
 * starts in the login folder) or `rsync://user@host[:port]/module/path` (an rsync
 * daemon). Paths are kept literal: rsync receives them as separate arguments
 * with --protect-args, never through a shell.
 */
export type RsyncTarget =
  | { kind: 'ssh'; user?: string; host: string; path: string }
  | { kind: 'daemon'; user?: string; host: string; port?: number; module: string; path: string };

const DAEMON = /^rsync:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/[\]]+)(?::(\d+))?\/([^/]+)(?:\/(.*))?$/;
const SSH = /^(?:([^@/]+)@)?(\[[^\]]+\]|[^:/[\]]+):(?!:)(.*)$/;

export function parseTarget(target: string): RsyncTarget | { error: string } {
  const daemon = DAEMON.exec(target);
  if (daemon) {
    const [, user, host, port, module, path = ''] = daemon;
    return {
      kind: 'daemon',
      user,
      host: unbracket(host!),
      port: port ? Number(port) : undefined,
      module: module!,
      path,
    };
  }
  if (target.startsWith('rsync://'))
    return { error: 'a daemon target looks like rsync://user@host[:port]/module/path' };
  if (/^(?:[^@/]+@)?[^[/:]+::/.test(target))
    return { error: 'write the daemon form host::module as rsync://host/module' };
  const ssh = SSH.exec(target);
  if (ssh) {
    const [, user, host, path] = ssh;
    return { kind: 'ssh', user, host: unbracket(host!), path: path! };
  }
  return {
    error: 'expected user@host:/path (over ssh) or rsync://user@host[:port]/module/path (rsync daemon)',
  };
}

function unbracket(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/**
 * The remote side split in two: `base`, which ends where a --relative upload
 * starts (`host:/`, `host:` for the login folder, `rsync://host/module/`), and
 * `root`, the configured folder below it without leading or trailing slashes.
 */
export interface RemoteLayout {
  base: string;
  root: string;
}

export function remoteLayout(target: RsyncTarget, port?: number): RemoteLayout {
  const user = target.user ? `${target.user}@` : '';
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const root = target.path.replace(/^\/+|\/+$/g, '');
  if (target.kind === 'ssh') {
    return { base: `${user}${host}:${target.path.startsWith('/') ? '/' : ''}`, root };
  }
  const daemonPort = target.port ?? port;
  return { base: `rsync://${user}${host}${daemonPort ? `:${daemonPort}` : ''}/${target.module}/`, root };
}

/** The remote argument for a path relative to the root ('' = the root itself). */
export function remoteSpec(layout: RemoteLayout, relative: string): string {
  const path = posix.join(layout.root, relative);
  return `${layout.base}${path === '' ? '.' : path}`;
}
