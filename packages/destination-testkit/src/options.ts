import type { Destination, DestinationCapabilities } from '@matric-backup/core';

export interface ConformanceOptions {
  /** Shown in the suite's title, e.g. `local` or `s3 (s3rver)`. */
  name: string;
  /** A destination over a FRESH, EMPTY root each call (a new temp folder, bucket prefix, share folder...). */
  factory: () => Promise<Destination>;
  /** The plugin's declared capabilities; a declared gap is asserted as such, never skipped. */
  capabilities: DestinationCapabilities;
  /** Size of the large round trip, in bytes. Default 64 MiB. */
  largeObjectSize?: number;
  /** How many keys the long listing puts (must exceed common server page sizes of 1,000). Default 1,100. */
  manyKeys?: number;
  /** Per-test timeout in milliseconds. Default 120,000. */
  timeoutMs?: number;
  /**
   * Storage-level listing of the root behind the destination the factory returned
   * most recently: every stored object or file, including hidden temporary ones and
   * unfinished uploads, as '/'-separated paths relative to that root (no folders).
   * When given, the atomicity checks also assert that nothing but the expected keys
   * is stored.
   */
  rawList?: () => Promise<string[]>;
}

export type ResolvedConformanceOptions = Required<Omit<ConformanceOptions, 'rawList'>> &
  Pick<ConformanceOptions, 'rawList'>;

export const MiB = 1024 * 1024;

export function resolveOptions(options: ConformanceOptions): ResolvedConformanceOptions {
  return {
    largeObjectSize: 64 * MiB,
    manyKeys: 1100,
    timeoutMs: 120_000,
    ...options,
  };
}
