/** Runs the tasks given to it with at most `concurrency` in flight; the rest wait in order. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * The one concurrency limit in core (sidecar reads, shard deletes, a destination's
 * `maxConcurrency`). A finishing task hands its slot straight to the next waiting
 * one, so a task started in between can never push the count over the limit.
 */
export function limiter(concurrency: number): Limiter {
  if (!(concurrency >= 1)) throw new RangeError(`concurrency must be at least 1, got ${concurrency}`);
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active < concurrency) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** `run` over every item with at most `limit` in flight; results in input order. */
export function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<R>,
): Promise<R[]> {
  const limited = limiter(limit);
  return Promise.all(items.map((item) => limited(() => run(item))));
}
