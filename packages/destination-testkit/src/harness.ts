import type { Destination } from '@matric-backup/plugin-api';
import { parseConfig } from './config.js';
import type { ResolvedConformanceOptions } from './options.js';

/** The plugin's destination for a config, made as matric-backup makes it: schema first, then create(). */
export async function openDestination(
  options: ResolvedConformanceOptions,
  config: unknown = options.config(),
): Promise<Destination> {
  const parsed = parseConfig(options.plugin, await config);
  return await options.plugin.create(parsed, options.context);
}

/** Runs `body` against a fresh destination and closes it afterwards whatever happened. */
export async function withDestination<T>(
  options: ResolvedConformanceOptions,
  body: (destination: Destination) => Promise<T>,
): Promise<T> {
  const destination = await openDestination(options);
  try {
    return await body(destination);
  } finally {
    await destination.close();
  }
}

/** Runs `task` on every item with at most `limit` in flight. */
export async function inBatches<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
