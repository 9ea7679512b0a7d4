import { type Destination, guardDestination } from '@matric-backup/core';
import type { ResolvedConformanceOptions } from './options.js';

/**
 * Runs `body` against a fresh destination, used through core's guard exactly as
 * core uses plugins, and closes it afterwards whatever happened.
 */
export async function withDestination<T>(
  options: ResolvedConformanceOptions,
  body: (destination: Destination) => Promise<T>,
): Promise<T> {
  const destination = guardDestination(options.name, await options.factory());
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
