/** One stored object of the in-memory destination. */
export interface MemoryObject {
  bytes: Buffer;
  modified: Date;
}

/**
 * What an in-memory destination holds. Tests may read it and tamper with it
 * (damage an object, drop a sidecar) to see how the code above reacts.
 */
export class MemoryStore {
  /** Finished objects by key: what list/stat/get see. */
  readonly objects = new Map<string, MemoryObject>();
  /** Bytes of puts still in flight, by upload number: never listed, removed when the put ends. */
  readonly uploads = new Map<number, { key: string; bytes: number }>();
  /** Every call in order, e.g. `put a/b`, `get a/b`, `list a/`, `delete a/b`, `deleteMany a/b a/c`, `check`, `close`. */
  readonly calls: string[] = [];
  /** When it returns an error, that put attempt fails with it after reading the whole body. */
  failPut?: (key: string, attempt: number) => Error | undefined;
  private readonly attemptsByKey = new Map<string, number>();

  /** How many times put(key) was called. */
  attempts(key: string): number {
    return this.attemptsByKey.get(key) ?? 0;
  }

  /** @internal counts a put attempt and returns its number (1 for the first). */
  nextAttempt(key: string): number {
    const attempt = this.attempts(key) + 1;
    this.attemptsByKey.set(key, attempt);
    return attempt;
  }

  /** The finished keys, sorted. */
  keys(): string[] {
    return [...this.objects.keys()].sort();
  }
}

const named = new Map<string, MemoryStore>();

/**
 * The store behind every destination configured with `store: name` in this process,
 * so a test can look at what a run through the CLI's loader wrote.
 */
export function namedMemoryStore(name: string): MemoryStore {
  const store = named.get(name) ?? new MemoryStore();
  named.set(name, store);
  return store;
}
