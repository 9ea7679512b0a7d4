import { join } from 'node:path';
import {
  type Destination,
  type LoadedConfig,
  openDestination,
  type ResolvedDestination,
} from '@matric-backup/core';

/** Opens a destination for the duration of `work`, and always closes it. */
export async function withDestination<T>(
  config: LoadedConfig,
  destination: ResolvedDestination,
  work: (opened: Destination) => Promise<T>,
): Promise<T> {
  const opened = await openDestination(config, destination);
  try {
    return await work(opened);
  } finally {
    await opened.close().catch(() => {
      // A failed close must not hide the result or the error of the work itself.
    });
  }
}

/**
 * Where an object lives, for people: a file path for folders, a URL for remote
 * stores. Reads the common location keys of the first-party plugins; other
 * types fall back to `<destination>:<key>`.
 */
export function whereIs(destination: ResolvedDestination, key: string): string {
  const config = (destination.config ?? {}) as Record<string, unknown>;
  const text = (name: string) => (typeof config[name] === 'string' ? (config[name] as string) : undefined);
  const under = (base: string | undefined) => (base ? `${base.replace(/\/+$/, '')}/${key}` : key);
  const bucket = text('bucket');
  if (bucket) return `s3://${bucket}/${under(text('prefix')?.replace(/^\/+/, ''))}`;
  const share = text('share');
  if (share)
    return under(
      `${share.replace(/\/+$/, '')}${text('path') ? `/${text('path')!.replace(/^\/+/, '')}` : ''}`,
    );
  const target = text('target');
  if (target) return under(target);
  const host = text('host');
  if (host) {
    const user = text('username') ?? text('user');
    const port = typeof config.port === 'number' ? `:${config.port}` : '';
    return `${destination.type}://${user ? `${user}@` : ''}${host}${port}/${under(text('path')?.replace(/^\/+/, ''))}`;
  }
  const path = text('path');
  if (path && destination.type === 'local') return join(path, key);
  return `${destination.name}:${key}`;
}
