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
 * Where an object lives, for people: `<location>/<key>` with the location the
 * plugin describes (a folder, a URL), else `<destination>:<key>`.
 */
export function whereIs(destination: ResolvedDestination, key: string): string {
  let location: string | undefined;
  try {
    location = destination.plugin.describe?.(destination.config);
  } catch {
    // A plugin's description is a courtesy: the object is named by its key all the same.
  }
  return location ? `${location.replace(/\/+$/, '')}/${key}` : `${destination.name}:${key}`;
}
