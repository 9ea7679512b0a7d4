import {
  type Destination,
  type LoadedConfig,
  openDestination,
  type ResolvedDestination,
} from '@matric-backup/core';

/** Opens a destination for the duration of `work`, and always closes it. */
async function withDestination<T>(
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

/** What one destination gave a command: the work's value, or the error that stopped it there. */
export type DestinationOutcome<T> =
  | { destination: ResolvedDestination; ok: true; value: T }
  | { destination: ResolvedDestination; ok: false; error: unknown };

/**
 * The per-destination loop of the commands that read or prune: each destination
 * opened, worked on and closed, its failure its own outcome that never stops the
 * others. In parallel, outcomes in the order given; `oneAtATime` for work that
 * prints as it goes.
 */
export async function onEachDestination<T>(
  config: LoadedConfig,
  destinations: readonly ResolvedDestination[],
  work: (opened: Destination, destination: ResolvedDestination) => Promise<T>,
  options: { oneAtATime?: boolean } = {},
): Promise<DestinationOutcome<T>[]> {
  const one = async (destination: ResolvedDestination): Promise<DestinationOutcome<T>> => {
    try {
      const value = await withDestination(config, destination, (opened) => work(opened, destination));
      return { destination, ok: true, value };
    } catch (error) {
      return { destination, ok: false, error };
    }
  };
  if (!options.oneAtATime) return Promise.all(destinations.map(one));
  const outcomes: DestinationOutcome<T>[] = [];
  for (const destination of destinations) outcomes.push(await one(destination));
  return outcomes;
}
